import { Client } from 'pg';

/**
 * Set-based generator of console-scale data straight in SQL: N accounts with 10 contacts
 * each, `eventsPerAccount` usage events over 60 days (daily rollups derived from them, as
 * ingestion would), health with 30 days of snapshots when that table exists, ~3 messages per
 * account with opens/clicks (some machine), and hand-offs for 1% of accounts.
 * Patterns: 70% active, 20% stopped 3–6 weeks ago, 10% never used the product.
 */
export interface GenerateOptions {
  accounts: number;
  contactsPerAccount?: number;
  eventsPerAccount?: number;
  now: Date;
  log?: (msg: string) => void;
}

export async function generateConsoleData(url: string, o: GenerateOptions): Promise<Record<string, number>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const log = o.log ?? (() => {});
  const cpa = o.contactsPerAccount ?? 10;
  const epa = o.eventsPerAccount ?? 112;
  const now = o.now.toISOString();
  // A table that already holds rows is kept (an interrupted generation resumes where it stopped).
  const step = async (label: string, sql: string, params: unknown[] = []) => {
    const table = /^\w+/.exec(label)![0];
    if (table !== 'analyze' && table !== 'events') {
      const exists = (await c.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [table])).rows[0].ok;
      if (exists && (await c.query(`SELECT EXISTS (SELECT 1 FROM ${table}) AS any`)).rows[0].any) return log(`${label}: kept`);
    }
    const t0 = Date.now();
    const r = await c.query(sql, params);
    log(`${label}: ${r.rowCount ?? 0} rows in ${Date.now() - t0} ms`);
  };
  try {
    await c.query(`SET synchronous_commit = off`);
    await step(
      'accounts',
      `INSERT INTO accounts (external_id, name, plan, mrr, phase, csm_owner, high_touch, seats, contract_start, renewal_date, created_at, updated_at)
       SELECT 'acc-' || g, (ARRAY['Acme','Globex','Initech','Umbrella','Hooli','Stark','Wayne','Tyrell','株式会社さくら','青空商事'])[1 + g % 10] || ' ' || g,
              (ARRAY['starter','growth','enterprise'])[1 + g % 3], (g % 50) * 1000,
              (ARRAY['onboarding','adoption','adoption','established','renewal','onboarding','adoption','established','onboarding','churned'])[1 + (g * 7) % 10],
              CASE WHEN g % 4 = 0 THEN NULL ELSE (ARRAY['佐藤','Suzuki','Tanaka','Kim','Lopez','Smith'])[1 + g % 6] END,
              g % 20 = 0, 5 + g % 40, $1::date - (g % 700), $1::date + (g % 365), $1::timestamptz - make_interval(days => 1 + g % 700), $1::timestamptz
         FROM generate_series(1, $2::int) g`,
      [now, o.accounts],
    );
    await step(
      'contacts',
      `INSERT INTO contacts (external_id, account_id, email, name, role, locale, created_at, updated_at, consent_marketing)
       SELECT 'u-' || a.id || '-' || k, a.id, 'u' || a.id || '.' || k || '@example.com', 'User ' || a.id || '-' || k,
              (ARRAY['admin','member','member','viewer'])[1 + k % 4], CASE WHEN a.id % 3 = 0 THEN 'en' ELSE 'ja' END, $1::timestamptz, $1::timestamptz, true
         FROM accounts a CROSS JOIN generate_series(1, $2::int) k`,
      [now, cpa],
    );
    await step('account_contacts', `INSERT INTO account_contacts (account_id, contact_id, role, joined_at) SELECT account_id, id, role, created_at FROM contacts`);
    // Events: the pattern of an account decides how recent its usage is.
    const chunk = 1_000_000;
    const total = o.accounts * epa;
    // Rollups are derived from the events once they are all in: with rollups present, events are done.
    const rolled = (await c.query(`SELECT EXISTS (SELECT 1 FROM event_rollups) AS any`)).rows[0].any;
    const [{ done }] = rolled
      ? [{ done: total }]
      : (await c.query(`SELECT coalesce(max(substr(message_id, 5)::bigint), 0) AS done FROM events WHERE message_id LIKE 'gen-%'`)).rows;
    for (let from = Math.floor(Number(done) / chunk) * chunk + 1; from <= total; from += chunk) {
      await step(
        `events ${from}..${Math.min(total, from + chunk - 1)}`,
        `WITH a AS (SELECT min(id) AS base FROM accounts), c AS (SELECT min(id) AS base FROM contacts)
         INSERT INTO events (message_id, type, name, properties, occurred_at, received_at, account_id, contact_id)
         SELECT 'gen-' || g, 'track', (ARRAY['login','login','login','mail_sent','report_created','dashboard_viewed','invite_sent','export'])[1 + (g * 13) % 8], '{}'::jsonb,
                $1::timestamptz - make_interval(days => (CASE WHEN acc % 10 < 7 THEN (g * 7919) % 60 ELSE 21 + (g * 7919) % 40 END)::int, secs => ((g * 104729) % 86400)::float8),
                $1::timestamptz, a.base + acc, c.base + acc * $4::int + (g % $4::int)
           FROM generate_series($2::bigint, $3::bigint) g CROSS JOIN a CROSS JOIN c,
                LATERAL (SELECT ((g - 1) / $5::int) AS acc) x
          WHERE acc % 10 <> 9
         ON CONFLICT (message_id) DO NOTHING`,
        [now, from, Math.min(total, from + chunk - 1), cpa, epa],
      );
    }
    await step(
      'event_rollups',
      `INSERT INTO event_rollups (account_id, event, day, contact_id, count, first_at, last_at)
       SELECT account_id, name, (occurred_at AT TIME ZONE 'UTC')::date, contact_id, count(*), min(occurred_at), max(occurred_at)
         FROM events GROUP BY 1, 2, 3, 4`,
    );
    await step(
      'account_health',
      `INSERT INTO account_health (account_id, score, band, previous_score, previous_band, components, computed_at)
       SELECT id, s, CASE WHEN s >= 70 THEN 'green' WHEN s >= 40 THEN 'yellow' ELSE 'red' END, greatest(0, least(100, s + (id % 7) - 3)), NULL,
              jsonb_build_object('logins', jsonb_build_object('value', id % 30, 'points', s, 'weight', 2, 'contribution', s / 2),
                                 'features', jsonb_build_object('value', id % 8, 'points', s, 'weight', 1, 'contribution', s / 4),
                                 'email', jsonb_build_object('value', id % 5, 'points', s, 'weight', 1, 'contribution', s / 4)),
              $1::timestamptz
         FROM (SELECT id, ((id * 37) % 100)::numeric AS s FROM accounts) x`,
      [now],
    );
    const [{ exists }] = (await c.query(`SELECT to_regclass('public.health_snapshots') IS NOT NULL AS exists`)).rows;
    if (exists) {
      await step(
        'health_snapshots',
        `INSERT INTO health_snapshots (account_id, day, score, band, profile, components, computed_at)
         SELECT h.account_id, $1::date - d, sc, CASE WHEN sc >= 70 THEN 'green' WHEN sc >= 40 THEN 'yellow' ELSE 'red' END, 'default',
                jsonb_build_object('logins', jsonb_build_object('value', d, 'points', sc, 'weight', 2, 'contribution', sc / 2),
                                   'features', jsonb_build_object('value', 3, 'points', sc, 'weight', 1, 'contribution', sc / 4),
                                   'email', jsonb_build_object('value', 1, 'points', sc, 'weight', 1, 'contribution', sc / 4)), $2::timestamptz
           FROM account_health h CROSS JOIN generate_series(0, 29) d,
                LATERAL (SELECT greatest(0, least(100, h.score + d * ((h.account_id % 5) - 2) * 0.5))::numeric(5,2) AS sc) x`,
        [now, now],
      );
    }
    await step(
      'messages',
      `INSERT INTO messages (idempotency_key, account_id, contact_id, to_email, journey_key, step_id, template, template_version, locale, category,
                             context, subject, status, reason, scheduled_at, created_at, updated_at, sent_at)
       SELECT 'gen-' || c.id || '-' || k, c.account_id, c.id, c.email,
              (ARRAY['onboarding-welcome','adoption-nudge','renewal-checkin'])[1 + (c.id + k) % 3], 'step-' || (1 + k % 2),
              (ARRAY['welcome','nudge','checkin'])[1 + (c.id + k) % 3], 'v1', coalesce(c.locale, 'ja'), 'marketing',
              jsonb_build_object('contact', jsonb_build_object('name', c.name)), 'Hello ' || c.name,
              st, CASE st WHEN 'capped' THEN 'weekly cap reached' WHEN 'deferred' THEN 'quiet hours' WHEN 'suppressed' THEN 'unsubscribed' END,
              at, at, at, CASE WHEN st = 'sent' THEN at END
         FROM contacts c CROSS JOIN generate_series(1, 2) k,
              LATERAL (SELECT $1::timestamptz - make_interval(days => ((c.id * 31 + k * 17) % 60)::int) AS at,
                              (ARRAY['sent','sent','sent','sent','sent','sent','capped','deferred','suppressed','holdout'])[1 + (c.id * 3 + k) % 10] AS st) x
        WHERE c.id % 7 < 1 + k`,
      [now],
    );
    await step(
      'engagement_events',
      `INSERT INTO engagement_events (message_id, contact_id, account_id, kind, machine, occurred_at)
       SELECT m.id, m.contact_id, m.account_id, kind, machine, m.sent_at + interval '2 hours'
         FROM messages m, LATERAL (VALUES ('open', m.id % 10 = 0), ('click', false)) v(kind, machine)
        WHERE m.status = 'sent' AND ((v.kind = 'open' AND m.id % 5 < 2) OR (v.kind = 'click' AND m.id % 10 = 1))`,
    );
    await step(
      'handoffs',
      `INSERT INTO handoffs (idempotency_key, account_id, journey_key, step_id, reason, signals, status, assignee, created_at)
       SELECT 'gen-' || id, id, 'adoption-nudge', 'handoff', 'usage dropped after nudges',
              jsonb_build_object('logins_7d', id % 3, 'health', (id * 37) % 100), (ARRAY['open','acknowledged','closed'])[1 + id % 3],
              csm_owner, $1::timestamptz - make_interval(days => (id % 20)::int)
         FROM accounts WHERE id % 100 = 0`,
      [now],
    );
    await step('analyze', 'ANALYZE');
    const counts = (
      await c.query(`SELECT (SELECT count(*) FROM accounts)::int AS accounts, (SELECT count(*) FROM contacts)::int AS contacts,
                            (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM event_rollups)::int AS rollups,
                            (SELECT count(*) FROM messages)::int AS messages, (SELECT count(*) FROM engagement_events)::int AS engagement,
                            (SELECT count(*) FROM handoffs)::int AS handoffs`)
    ).rows[0] as Record<string, number>;
    return counts;
  } finally {
    await c.end();
  }
}
