import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cheaper outbox writes. Each message is inserted once and updated about three times by the
 * dispatcher (claim → sending, the group's `send_started_at` mark, the outcome); an update
 * that changes an indexed column (every status change does) adds an entry to every index
 * whose predicate the new row satisfies. So:
 * - merged: `messages_contact_idx` (contact_id, sent_at) serves the contact foreign key,
 *   contact-scoped caps (`capHistory`), "received" signals and the account page's per-contact
 *   sent counts — replacing `messages_sent_contact_idx` and `messages_capped_sends_idx`;
 *   `messages_email_idx` (lower(to_email), created_at) serves suppression of pending mail
 *   and bounce matching by address — replacing `messages_pending_email_idx` and
 *   `messages_email_sent_idx` (one address has few messages).
 * - `messages_status_created_idx` becomes partial: the console's status filter needs it for
 *   the rare end states; `sent` is most rows (the newest-first walk of `messages_created_idx`
 *   finds them), `queued`/`deferred` and `sending` have their own partial indexes.
 * - `messages_sending_idx` keys on `id` instead of `lease_until` (recovery reads every
 *   `sending` row — a few batches — and filters the lease), so the `send_started_at` mark,
 *   which renews the lease, changes no indexed column; with fillfactor 50 (room on the page for the claim's and the mark's row versions) it is heap-only.
 *   Fillfactor applies to pages written from now on.
 */
export class MessagesIndexes1763920000500 implements MigrationInterface {
  name = 'MessagesIndexes1763920000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX messages_sent_contact_idx, messages_capped_sends_idx, messages_pending_email_idx, messages_email_sent_idx,
                   messages_status_created_idx, messages_contact_idx, messages_sending_idx`);
    await q.query(`CREATE INDEX messages_contact_idx ON messages (contact_id, sent_at)`);
    await q.query(`CREATE INDEX messages_sending_idx ON messages (id) WHERE status = 'sending'`);
    await q.query(`CREATE INDEX messages_status_created_idx ON messages (status, created_at DESC, id DESC) WHERE status NOT IN ('queued','sending','sent')`);
    await q.query(`ALTER TABLE messages SET (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages RESET (fillfactor)`);
    await q.query(`DROP INDEX messages_status_created_idx, messages_sending_idx, messages_contact_idx`);
    await q.query(`CREATE INDEX messages_status_created_idx ON messages (status, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX messages_email_sent_idx ON messages (lower(to_email), sent_at DESC) WHERE sent_at IS NOT NULL`);
    await q.query(`CREATE INDEX messages_pending_email_idx ON messages (lower(to_email)) WHERE status IN ('queued','deferred')`);
    await q.query(`CREATE INDEX messages_capped_sends_idx ON messages (contact_id, sent_at) WHERE status IN ('sent','sending') AND category = 'marketing'`);
    await q.query(`CREATE INDEX messages_sent_contact_idx ON messages (contact_id, sent_at) WHERE status = 'sent'`);
    await q.query(`CREATE INDEX messages_sending_idx ON messages (lease_until) WHERE status = 'sending'`);
    await q.query(`CREATE INDEX messages_contact_idx ON messages (contact_id, created_at DESC)`);
  }
}
