import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts, contacts, raw events and the daily rollups that signal queries read
 * (signals never scan raw events).
 */
export class Foundation1763800000000 implements MigrationInterface {
  name = 'Foundation1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id             bigserial PRIMARY KEY,
        external_id    text NOT NULL UNIQUE,
        name           text NOT NULL DEFAULT '',
        plan           text,
        mrr            numeric(14,2),
        size_segment   text,
        region         text,
        phase          text NOT NULL DEFAULT 'onboarding'
                       CHECK (phase IN ('onboarding','adoption','established','renewal','churned')),
        contract_start date,
        renewal_date   date,
        csm_owner      text,
        high_touch     boolean NOT NULL DEFAULT false,
        seats          integer CHECK (seats IS NULL OR seats >= 0),
        timezone       text,
        locale         text,
        traits         jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at     timestamptz NOT NULL,
        updated_at     timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX accounts_phase_idx ON accounts (phase, high_touch)`);
    await q.query(`CREATE INDEX accounts_renewal_idx ON accounts (renewal_date) WHERE renewal_date IS NOT NULL`);
    await q.query(`CREATE INDEX accounts_csm_idx ON accounts (csm_owner) WHERE csm_owner IS NOT NULL`);

    await q.query(`
      CREATE TABLE contacts (
        id                bigserial PRIMARY KEY,
        external_id       text NOT NULL UNIQUE,
        account_id        bigint REFERENCES accounts(id) ON DELETE SET NULL,
        email             text,
        name              text,
        role              text,
        locale            text,
        timezone          text,
        traits            jsonb NOT NULL DEFAULT '{}'::jsonb,
        consent_marketing boolean,
        consent_source    text,
        consent_at        timestamptz,
        created_at        timestamptz NOT NULL,
        updated_at        timestamptz NOT NULL
      )`);
    await q.query(`COMMENT ON COLUMN contacts.account_id IS 'primary account: the first account the contact joined'`);
    await q.query(`CREATE INDEX contacts_account_idx ON contacts (account_id)`);
    await q.query(`CREATE INDEX contacts_email_idx ON contacts (lower(email))`);

    // A contact can belong to several accounts (Segment group calls); role is per membership.
    await q.query(`
      CREATE TABLE account_contacts (
        account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        contact_id bigint NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        role       text,
        joined_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, contact_id)
      )`);
    await q.query(`CREATE INDEX account_contacts_contact_idx ON account_contacts (contact_id)`);

    // Raw events: the hot insert path carries no foreign keys; ids are resolved on ingestion.
    await q.query(`
      CREATE TABLE events (
        id           bigserial PRIMARY KEY,
        message_id   text NOT NULL,
        type         text NOT NULL CHECK (type IN ('track','identify','group')),
        name         text,
        properties   jsonb NOT NULL DEFAULT '{}'::jsonb,
        occurred_at  timestamptz NOT NULL,
        received_at  timestamptz NOT NULL,
        account_id   bigint,
        contact_id   bigint,
        anonymous_id text,
        CONSTRAINT events_message_id_key UNIQUE (message_id)
      )`);
    await q.query(`CREATE INDEX events_account_time_idx ON events (account_id, occurred_at DESC)`);

    // Daily rollups per (account, event, day, contact); 0 stands for "no account/contact".
    await q.query(`
      CREATE TABLE event_rollups (
        account_id bigint NOT NULL,
        event      text NOT NULL,
        day        date NOT NULL,
        contact_id bigint NOT NULL,
        count      integer NOT NULL CHECK (count > 0),
        first_at   timestamptz NOT NULL,
        last_at    timestamptz NOT NULL,
        PRIMARY KEY (account_id, event, day, contact_id)
      ) WITH (fillfactor = 85)`);
    await q.query(`CREATE INDEX event_rollups_contact_idx ON event_rollups (contact_id, event, day) WHERE contact_id <> 0`);

    // Every event name seen, for "did you mean" in journey validation.
    await q.query(`
      CREATE TABLE event_names (
        name       text PRIMARY KEY,
        first_seen timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_names, event_rollups, events, account_contacts, contacts, accounts`);
  }
}
