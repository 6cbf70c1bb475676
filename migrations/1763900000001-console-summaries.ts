import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Summaries that keep console pages fast at 100,000 accounts and millions of messages,
 * refreshed by the console worker (CONCURRENTLY: readers never wait):
 * - console_account_activity: last usage day and last human engagement per account. The
 *   "unengaged" filter uses it only to pick candidates and then checks each candidate
 *   exactly, so a stale summary never changes the answer (usage only ever grows).
 * - console_message_stats: messages per journey, template, locale, status, reason and day,
 *   with how many a person opened or clicked; journey reports add these rows up.
 * Also: trigram search on account names, health ordering, the message log's status filter.
 */
export class ConsoleSummaries1763900000001 implements MigrationInterface {
  name = 'ConsoleSummaries1763900000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE MATERIALIZED VIEW console_account_activity AS
      SELECT account_id, last_usage_day, last_engagement_at,
             greatest(last_usage_day::timestamp AT TIME ZONE 'UTC', last_engagement_at) AS last_activity_at
        FROM (SELECT a.id AS account_id,
                     (SELECT max(r.day) FROM event_rollups r WHERE r.account_id = a.id) AS last_usage_day,
                     (SELECT max(e.occurred_at) FROM engagement_events e
                       WHERE e.account_id = a.id AND e.kind IN ('open','click','survey') AND NOT e.machine) AS last_engagement_at
                FROM accounts a) x`);
    await q.query(`CREATE UNIQUE INDEX console_account_activity_pk ON console_account_activity (account_id)`);
    // When few accounts are unengaged, their candidates are a range of this index (NULL = never active).
    await q.query(`CREATE INDEX console_account_activity_last_idx ON console_account_activity (last_activity_at)`);
    // …plus accounts created since the summary's snapshot.
    await q.query(`CREATE INDEX accounts_created_idx ON accounts (created_at)`);
    await q.query(`
      CREATE MATERIALIZED VIEW console_message_stats AS
      SELECT m.journey_key, m.template, m.locale, m.status, coalesce(m.reason, '') AS reason, (m.created_at AT TIME ZONE 'UTC')::date AS day,
             count(*)::int AS messages,
             count(*) FILTER (WHERE x.human_open)::int AS opened,
             count(*) FILTER (WHERE x.human_click)::int AS clicked,
             count(*) FILTER (WHERE x.machine AND NOT x.human_open)::int AS machine_only
        FROM messages m
        LEFT JOIN (SELECT message_id,
                          bool_or(kind IN ('open','click') AND NOT machine) AS human_open,
                          bool_or(kind = 'click' AND NOT machine) AS human_click,
                          bool_or(machine AND kind IN ('open','click')) AS machine
                     FROM engagement_events WHERE message_id IS NOT NULL GROUP BY message_id) x ON x.message_id = m.id
       WHERE m.journey_key IS NOT NULL
       GROUP BY 1, 2, 3, 4, 5, 6`);
    // Plain columns only: REFRESH … CONCURRENTLY needs such a unique index (hence reason '' for none).
    await q.query(`CREATE UNIQUE INDEX console_message_stats_pk ON console_message_stats (journey_key, template, locale, status, reason, day)`);
    await q.query(`CREATE TABLE console_refreshes (name text PRIMARY KEY, started_at timestamptz NOT NULL, refreshed_at timestamptz NOT NULL, took_ms integer NOT NULL)`);

    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`CREATE INDEX accounts_name_trgm_idx ON accounts USING gin (name gin_trgm_ops)`);
    await q.query(`CREATE INDEX account_health_score_idx ON account_health (score, account_id)`);
    await q.query(`CREATE INDEX messages_status_created_idx ON messages (status, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX messages_status_created_idx, account_health_score_idx, accounts_name_trgm_idx, accounts_created_idx`);
    await q.query(`DROP TABLE console_refreshes`);
    await q.query(`DROP MATERIALIZED VIEW console_message_stats, console_account_activity`);
  }
}
