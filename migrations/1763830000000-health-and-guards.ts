import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Shared by health scoring (writes), the condition language and console (read), and the
 * sending guards that pause a category of mail (delivery reads, tracking and delivery write).
 */
export class HealthAndGuards1763830000000 implements MigrationInterface {
  name = 'HealthAndGuards1763830000000';

  async up(q: QueryRunner): Promise<void> {
    // The latest health of each account; dated snapshots with components live beside it.
    await q.query(`
      CREATE TABLE account_health (
        account_id      bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        score           numeric(5,2) NOT NULL,
        band            text NOT NULL CHECK (band IN ('green','yellow','red')),
        previous_score  numeric(5,2),
        previous_band   text CHECK (previous_band IN ('green','yellow','red')),
        band_changed_at timestamptz,
        components      jsonb NOT NULL DEFAULT '{}'::jsonb,
        computed_at     timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX account_health_band_idx ON account_health (band, score)`);

    // A row here pauses sending of a kind of mail ('marketing' or 'all') until it is removed.
    await q.query(`
      CREATE TABLE sending_pauses (
        kind       text PRIMARY KEY CHECK (kind IN ('marketing','all')),
        reason     text NOT NULL,
        details    jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL
      )`);

    // Hand-offs (トスアップ): tasks a journey creates for the account's CSM, with the signals
    // at that moment; the webhook that notifies the CSM is retried from here.
    await q.query(`
      CREATE TABLE handoffs (
        id                 bigserial PRIMARY KEY,
        idempotency_key    text NOT NULL UNIQUE,
        account_id         bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        contact_id         bigint REFERENCES contacts(id) ON DELETE SET NULL,
        enrollment_id      bigint,
        journey_key        text,
        step_id            text,
        reason             text NOT NULL,
        signals            jsonb NOT NULL DEFAULT '{}'::jsonb,
        status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open','acknowledged','closed')),
        assignee           text,
        outcome            text,
        webhook_status     text NOT NULL DEFAULT 'none' CHECK (webhook_status IN ('none','pending','delivered','failed')),
        webhook_attempts   integer NOT NULL DEFAULT 0,
        webhook_next_at    timestamptz,
        webhook_last_error text,
        created_at         timestamptz NOT NULL,
        acknowledged_at    timestamptz,
        closed_at          timestamptz
      )`);
    await q.query(`CREATE INDEX handoffs_account_idx ON handoffs (account_id, created_at DESC)`);
    await q.query(`CREATE INDEX handoffs_open_idx ON handoffs (assignee, created_at DESC) WHERE status <> 'closed'`);
    await q.query(`CREATE INDEX handoffs_webhook_idx ON handoffs (webhook_next_at) WHERE webhook_status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE handoffs, sending_pauses, account_health`);
  }
}
