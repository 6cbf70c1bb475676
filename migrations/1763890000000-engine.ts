import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The journey engine: stored journey versions, enrollments with their history, per-subject
 * trigger state (to detect "newly true"), and durable cursors. `events.xid` records the
 * writing transaction so event triggers can read the events table exactly once across
 * processes (ids are assigned before commit, so an id cursor could skip a late commit).
 */
export class Engine1763890000000 implements MigrationInterface {
  name = 'Engine1763890000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()`);
    await q.query(`CREATE INDEX events_xid_idx ON events (xid)`);
    // "first identify of a contact" / "first group call linking a contact" (built-in events).
    await q.query(`CREATE INDEX events_people_idx ON events (contact_id, type, id) WHERE type IN ('identify','group')`);

    await q.query(`
      CREATE TABLE journeys (
        key                text PRIMARY KEY,
        name               text NOT NULL,
        status             text NOT NULL CHECK (status IN ('active','paused','archived')),
        current_version_id bigint,
        source             text,
        next_fire_at       timestamptz,
        archived_at        timestamptz,
        archived_reason    text,
        created_at         timestamptz NOT NULL,
        updated_at         timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE journey_versions (
        id           bigserial PRIMARY KEY,
        journey_key  text NOT NULL REFERENCES journeys(key) ON DELETE CASCADE,
        version      integer NOT NULL,
        content_hash text NOT NULL,
        definition   jsonb NOT NULL,
        created_at   timestamptz NOT NULL,
        UNIQUE (journey_key, version),
        UNIQUE (journey_key, content_hash)
      )`);

    // The hot tables below carry no foreign keys on purpose: trigger statements insert
    // enrollments, history and trigger state by the hundred thousand, and per-row FK checks
    // would dominate. Journeys and versions are never deleted (a removed file archives), so
    // the references cannot dangle.
    await q.query(`
      CREATE TABLE enrollments (
        id              bigserial PRIMARY KEY,
        journey_key     text NOT NULL,
        version_id      bigint NOT NULL,
        subject_type    text NOT NULL CHECK (subject_type IN ('account','contact')),
        subject_id      bigint NOT NULL,
        account_id      bigint NOT NULL,
        contact_id      bigint,
        status          text NOT NULL CHECK (status IN ('active','converted','completed','exited','failed','ended')),
        step_id         text NOT NULL,
        step_started_at timestamptz NOT NULL,
        seq             integer NOT NULL DEFAULT 0,
        entered_at      timestamptz NOT NULL,
        due_at          timestamptz,
        holdout         boolean NOT NULL,
        arms            jsonb NOT NULL DEFAULT '{}'::jsonb,
        trigger_key     text,
        attempts        integer NOT NULL DEFAULT 0,
        last_error      text,
        lease_token     bigint NOT NULL DEFAULT 0,
        leased_by       text,
        lease_until     timestamptz,
        ended_at        timestamptz,
        end_reason      text,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL
      ) WITH (fillfactor = 80)`);
    // At most one running enrollment per journey and subject.
    await q.query(`CREATE UNIQUE INDEX enrollments_active_uniq ON enrollments (journey_key, subject_id) WHERE status = 'active'`);
    // Date and schedule triggers fire once per (journey, subject, occurrence).
    await q.query(`CREATE UNIQUE INDEX enrollments_occurrence_uniq ON enrollments (journey_key, subject_id, trigger_key) WHERE trigger_key IS NOT NULL`);
    await q.query(`CREATE INDEX enrollments_subject_idx ON enrollments (journey_key, subject_id, ended_at)`);
    await q.query(`CREATE INDEX enrollments_due_idx ON enrollments (due_at) WHERE status = 'active'`);
    await q.query(`CREATE INDEX enrollments_account_idx ON enrollments (account_id) WHERE status = 'active'`);
    await q.query(`CREATE INDEX enrollments_contact_idx ON enrollments (contact_id) WHERE status = 'active'`);

    await q.query(`
      CREATE TABLE enrollment_history (
        id            bigserial PRIMARY KEY,
        enrollment_id bigint NOT NULL,
        step_id       text,
        outcome       text NOT NULL,
        reason        text NOT NULL,
        at            timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX enrollment_history_enrollment_idx ON enrollment_history (enrollment_id, id)`);

    // Subjects for which a journey's condition trigger held at the last evaluation.
    await q.query(`
      CREATE TABLE trigger_state (
        journey_key text NOT NULL,
        subject_id  bigint NOT NULL,
        since       timestamptz NOT NULL,
        PRIMARY KEY (journey_key, subject_id)
      )`);

    // Where a hand-off's webhook goes (the step's, the CSM's, or the default), fixed at creation.
    await q.query(`ALTER TABLE handoffs ADD COLUMN webhook_url text`);

    // Durable read positions (the events cursor is the snapshot of the last pass).
    await q.query(`
      CREATE TABLE engine_cursors (
        name       text PRIMARY KEY,
        snapshot   text NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE engine_cursors, trigger_state, enrollment_history, enrollments, journey_versions, journeys`);
    await q.query(`ALTER TABLE handoffs DROP COLUMN webhook_url`);
    await q.query(`DROP INDEX events_people_idx`);
    await q.query(`ALTER TABLE events DROP COLUMN xid`);
  }
}
