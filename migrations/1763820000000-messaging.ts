import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox (one row per email the engine decided to send), address suppressions and the
 * engagement recorded back from recipients. Shared by the engine (writes messages),
 * delivery (sends them), tracking (records engagement) and the console (reads all three).
 */
export class Messaging1763820000000 implements MigrationInterface {
  name = 'Messaging1763820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE messages (
        id                 bigserial PRIMARY KEY,
        idempotency_key    text NOT NULL UNIQUE,
        account_id         bigint REFERENCES accounts(id) ON DELETE SET NULL,
        contact_id         bigint NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        to_email           text NOT NULL,
        journey_key        text,
        journey_version_id bigint,
        enrollment_id      bigint,
        step_id            text,
        template           text NOT NULL,
        template_version   text,
        locale             text NOT NULL,
        category           text NOT NULL CHECK (category IN ('marketing','operational')),
        priority           integer NOT NULL DEFAULT 0,
        context            jsonb NOT NULL DEFAULT '{}'::jsonb,
        subject            text,
        status             text NOT NULL DEFAULT 'queued'
                           CHECK (status IN ('queued','sending','sent','failed','suppressed','capped','deferred','holdout','review')),
        reason             text,
        scheduled_at       timestamptz NOT NULL,
        expires_at         timestamptz,
        lease_until        timestamptz,
        leased_by          text,
        attempts           integer NOT NULL DEFAULT 0,
        last_error         text,
        smtp_response      text,
        message_id_header  text,
        created_at         timestamptz NOT NULL,
        updated_at         timestamptz NOT NULL,
        sent_at            timestamptz
      )`);
    await q.query(`CREATE INDEX messages_due_idx ON messages (scheduled_at) WHERE status IN ('queued','deferred')`);
    await q.query(`CREATE INDEX messages_sending_idx ON messages (lease_until) WHERE status = 'sending'`);
    await q.query(`CREATE INDEX messages_contact_idx ON messages (contact_id, created_at DESC)`);
    await q.query(`CREATE INDEX messages_account_idx ON messages (account_id, created_at DESC)`);
    await q.query(`CREATE INDEX messages_journey_idx ON messages (journey_key, status)`);
    await q.query(`CREATE INDEX messages_sent_contact_idx ON messages (contact_id, sent_at) WHERE status = 'sent'`);

    // One row per address; scope 'marketing' (unsubscribed) or 'all' (bounced, complained, blocked).
    await q.query(`
      CREATE TABLE suppressions (
        email      text PRIMARY KEY,
        scope      text NOT NULL CHECK (scope IN ('marketing','all')),
        reason     text NOT NULL CHECK (reason IN ('unsubscribed','hard_bounce','complaint','manual','soft_bounces')),
        source     text,
        message_id bigint,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE engagement_events (
        id          bigserial PRIMARY KEY,
        message_id  bigint REFERENCES messages(id) ON DELETE CASCADE,
        contact_id  bigint,
        account_id  bigint,
        kind        text NOT NULL CHECK (kind IN ('delivered','open','click','unsubscribe','resubscribe','bounce','soft_bounce','complaint','survey')),
        machine     boolean NOT NULL DEFAULT false,
        classification text,
        url         text,
        user_agent  text,
        ip_hash     text,
        data        jsonb NOT NULL DEFAULT '{}'::jsonb,
        occurred_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX engagement_message_idx ON engagement_events (message_id)`);
    await q.query(`CREATE INDEX engagement_contact_idx ON engagement_events (contact_id, kind, occurred_at DESC)`);
    await q.query(`CREATE INDEX engagement_account_idx ON engagement_events (account_id, occurred_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE engagement_events, suppressions, messages`);
  }
}
