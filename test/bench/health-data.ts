import { Client } from 'pg';

/**
 * Realistic data for the health benchmark, generated set-based in SQL (deterministic seed):
 * accounts across phases and plans, 60 days of daily usage rollups per contact following four
 * patterns (engaged 40%, fading 25%, never started 12%, recovering 23%: as the demo seed), key
 * features used after logins, email sent to a third of the accounts with human and machine
 * opens, NPS answers from a tenth, and open hand-offs at 2%.
 */
export async function generateHealthData(url: string, accounts: number, log: (o: Record<string, unknown>) => void): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const step = async (name: string, sql: string, params: unknown[] = []) => {
    const started = Date.now();
    const r = await c.query(sql, params);
    log({ phase: 'generate', step: name, rows: r.rowCount, seconds: (Date.now() - started) / 1000 });
  };
  try {
    await c.query(`SET TIME ZONE 'UTC'`);
    await c.query(`SELECT setseed(0.42)`);
    await step(
      'accounts',
      `INSERT INTO accounts (external_id, name, phase, plan, seats, contract_start, renewal_date, created_at, updated_at)
       SELECT 'bench-' || g, 'Bench account ' || g,
              (ARRAY['onboarding','onboarding','adoption','adoption','adoption','established','established','renewal','churned','established'])[1 + g % 10],
              (ARRAY['starter','starter','growth','growth','enterprise'])[1 + (g / 10) % 5],
              (ARRAY[5, 5, 20, 20, 100])[1 + (g / 10) % 5],
              current_date - (30 + g % 600), current_date + (g % 365), now(), now()
         FROM generate_series(1, $1::int) g`,
      [accounts],
    );
    // Pattern by a hash of the id; contacts 1-4 per account (ids account*8 + n: rollups carry no FK).
    await step(
      'event_rollups (logins)',
      `INSERT INTO event_rollups (account_id, event, day, contact_id, count, first_at, last_at)
       SELECT a.id, 'login', current_date - d, a.id * 8 + n, 1 + (random() * 2)::int,
              (current_date - d) + time '09:00', (current_date - d) + time '17:00'
         FROM (SELECT id, (id * 2654435761 % 100) AS h FROM accounts) a
        CROSS JOIN generate_series(1, 4) n
        CROSS JOIN generate_series(0, 59) d
        WHERE n <= 1 + a.id % 4
          AND random() < CASE
                WHEN a.h < 40 THEN 0.45                                              -- engaged
                WHEN a.h < 65 THEN CASE WHEN d < 18 THEN 0.01 ELSE 0.4 END           -- fading
                WHEN a.h < 77 THEN CASE WHEN d > 56 THEN 0.3 ELSE 0 END              -- never started
                ELSE CASE WHEN d > 40 THEN 0.35 WHEN d > 12 THEN 0.04 ELSE 0.4 END    -- recovering
              END`,
    );
    await step(
      'event_rollups (features)',
      `INSERT INTO event_rollups (account_id, event, day, contact_id, count, first_at, last_at)
       SELECT r.account_id, f.event, r.day, r.contact_id, 1 + (random() * 3)::int, r.first_at + interval '5 minutes', r.last_at
         FROM event_rollups r
        CROSS JOIN LATERAL (SELECT (ARRAY['report_created','dashboard_viewed','mail_sent','integration_connected','workflow_created','export_csv','user_invited'])
                                   [1 + ((r.account_id + r.contact_id + (r.day - date '2000-01-01')) % (2 + r.account_id % 6))::int] AS event) f
        WHERE r.event = 'login' AND random() < 0.45`,
    );
    await step(
      'contacts',
      `INSERT INTO contacts (external_id, account_id, email, created_at, updated_at)
       SELECT 'bench-c-' || a.id, a.id, 'admin@bench-' || a.id || '.example', now(), now() FROM accounts a WHERE a.id % 3 = 0`,
    );
    await step(
      'messages',
      `INSERT INTO messages (idempotency_key, account_id, contact_id, to_email, template, locale, category, status, scheduled_at, created_at, updated_at, sent_at)
       SELECT 'bench-m-' || c.id || '-' || k, c.account_id, c.id, c.email, 'nudge', 'ja', 'marketing', 'sent', t, t, t, t
         FROM contacts c CROSS JOIN generate_series(1, 3) k
        CROSS JOIN LATERAL (SELECT now() - make_interval(days => (c.id * 7 + k * 13)::int % 55, hours => k) AS t) s`,
    );
    await step(
      'engagement (opens, clicks)',
      `INSERT INTO engagement_events (message_id, contact_id, account_id, kind, machine, occurred_at)
       SELECT m.id, m.contact_id, m.account_id, CASE WHEN x < 0.1 THEN 'click' ELSE 'open' END, x >= 0.35, m.sent_at + interval '2 hours'
         FROM (SELECT m.*, random() AS x FROM messages m) m WHERE x < 0.5`,
    );
    await step(
      'engagement (NPS)',
      `INSERT INTO engagement_events (message_id, contact_id, account_id, kind, data, occurred_at)
       SELECT NULL, c.id, c.account_id, 'survey', jsonb_build_object('kind', 'nps', 'score', (c.id * 31) % 11), now() - make_interval(days => (c.id % 150)::int)
         FROM contacts c WHERE c.id % 3 = 0`,
    );
    await step(
      'handoffs',
      `INSERT INTO handoffs (idempotency_key, account_id, reason, status, created_at)
       SELECT 'bench-h-' || a.id, a.id, 'usage dropped', 'open', now() FROM accounts a WHERE a.id % 50 = 0`,
    );
    await step('analyze', 'VACUUM ANALYZE');
  } finally {
    await c.end();
  }
}
