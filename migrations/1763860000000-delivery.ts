import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery: bookkeeping the dispatcher needs on the outbox, and the shared send-rate limiter.
 *
 * - `first_attempt_at` starts the retry period (temporary failures are retried until it ends).
 * - `send_started_at` is written just before a message is handed to SMTP; a message found in
 *   `sending` with an expired lease and no `send_started_at` was never offered to the server
 *   and is safe to queue again, one with it may have been accepted (see README, guarantees).
 * - `delivery_rate` holds one row per limiter: the theoretical arrival time of the next send
 *   (GCRA). Every dispatcher reserves its send slots from it, so the rate holds across processes.
 *   UNLOGGED: it is updated for every few sends and needs no durability (after a database
 *   crash it is empty and the limiter simply starts again from the present).
 */
export class Delivery1763860000000 implements MigrationInterface {
  name = 'Delivery1763860000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages ADD COLUMN first_attempt_at timestamptz, ADD COLUMN send_started_at timestamptz`);
    // Cap checks read a contact's (and an account's) recent marketing sends.
    await q.query(`CREATE INDEX messages_capped_sends_idx ON messages (contact_id, sent_at) WHERE status IN ('sent','sending') AND category = 'marketing'`);
    await q.query(`CREATE INDEX messages_capped_account_sends_idx ON messages (account_id, sent_at) WHERE status IN ('sent','sending') AND category = 'marketing'`);
    // Unsubscribe suppresses every queued message to the address at once.
    await q.query(`CREATE INDEX messages_pending_email_idx ON messages (lower(to_email)) WHERE status IN ('queued','deferred')`);
    await q.query(`
      CREATE UNLOGGED TABLE delivery_rate (
        name text PRIMARY KEY,
        tat  timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE delivery_rate`);
    await q.query(`DROP INDEX messages_pending_email_idx, messages_capped_account_sends_idx, messages_capped_sends_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN send_started_at, DROP COLUMN first_attempt_at`);
  }
}
