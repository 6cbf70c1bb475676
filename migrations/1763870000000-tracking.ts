import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tracking and bounce webhooks: the address and provider event id on engagement events
 * (soft-bounce counting per address; providers retry webhooks, so each provider event is
 * recorded once), one survey answer per message, and an index for the 7-day sent count
 * of the complaint-rate guard.
 */
export class Tracking1763870000000 implements MigrationInterface {
  name = 'Tracking1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE engagement_events ADD COLUMN email text, ADD COLUMN external_id text`);
    await q.query(`CREATE UNIQUE INDEX engagement_external_idx ON engagement_events (external_id) WHERE external_id IS NOT NULL`);
    await q.query(`CREATE INDEX engagement_bounce_email_idx ON engagement_events (email, kind, occurred_at) WHERE kind IN ('bounce','soft_bounce','complaint')`);
    await q.query(`CREATE INDEX engagement_complaint_idx ON engagement_events (occurred_at) WHERE kind = 'complaint'`);
    await q.query(`CREATE INDEX messages_sent_at_idx ON messages (sent_at) WHERE sent_at IS NOT NULL`);
    // Bounce reports are matched by our Message-ID, else by the latest mail to the address.
    await q.query(`CREATE INDEX messages_message_id_header_idx ON messages (message_id_header) WHERE message_id_header IS NOT NULL`);
    await q.query(`CREATE INDEX messages_email_sent_idx ON messages (lower(to_email), sent_at DESC) WHERE sent_at IS NOT NULL`);
    // Suppressing an address settles its queued mail at once: find it without a scan. The
    // delivery migration (1763860000000) creates the same index; whichever runs first makes
    // it, and delivery's down() owns dropping it.
    await q.query(`CREATE INDEX IF NOT EXISTS messages_pending_email_idx ON messages (lower(to_email)) WHERE status IN ('queued','deferred')`);

    // The answer that counts for a message's survey. Every GET is also an engagement event
    // (kind 'survey') for the audit trail; this row is what health and reports read.
    await q.query(`
      CREATE TABLE survey_responses (
        message_id     bigint PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        contact_id     bigint NOT NULL,
        account_id     bigint,
        kind           text NOT NULL CHECK (kind IN ('nps','csat')),
        score          integer NOT NULL,
        comment        text,
        machine        boolean NOT NULL,
        classification text,
        answers        integer NOT NULL DEFAULT 1,
        first_at       timestamptz NOT NULL,
        answered_at    timestamptz NOT NULL,
        CHECK ((kind = 'nps' AND score BETWEEN 0 AND 10) OR (kind = 'csat' AND score BETWEEN 1 AND 5))
      )`);
    await q.query(`CREATE INDEX survey_responses_account_idx ON survey_responses (account_id, answered_at DESC) WHERE NOT machine`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE survey_responses`);
    await q.query(`DROP INDEX messages_sent_at_idx, messages_message_id_header_idx, messages_email_sent_idx`);
    await q.query(`DROP INDEX engagement_complaint_idx, engagement_bounce_email_idx, engagement_external_idx`);
    await q.query(`ALTER TABLE engagement_events DROP COLUMN email, DROP COLUMN external_id`);
  }
}
