import type { TestDatabase } from '../support/db';

/**
 * Console fixtures written straight to the tables the console reads (the way the engine,
 * delivery, tracking and health capabilities write them). Names carry HTML on purpose.
 */
export const NOW = '2026-11-20T03:00:00Z';
export const XSS_CONTACT = `<script>window.__xss = 1; alert('xss')</script>`;
export const XSS_ACCOUNT = `Acme <img src=x onerror="window.__xss=2">`;
export const BULK = 120;

const day = (offset: number) => new Date(Date.parse(NOW) + offset * 86_400_000).toISOString().slice(0, 10);
const at = (offsetDays: number, hours = 0) => new Date(Date.parse(NOW) + offsetDays * 86_400_000 + hours * 3_600_000).toISOString();

export async function seedConsoleFixtures(db: TestDatabase): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const account = async (ext: string, name: string, phase: string, owner: string | null, highTouch = false) => {
    const [r] = await db.query(
      `INSERT INTO accounts (external_id, name, phase, csm_owner, high_touch, plan, mrr, renewal_date, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'growth', 50000, '2027-03-31', $6, $6) RETURNING id`,
      [ext, name, phase, owner, highTouch, NOW],
    );
    ids[ext] = String(r.id);
    return String(r.id);
  };
  const contact = async (ext: string, accountId: string, name: string, email: string) => {
    const [r] = await db.query(
      `INSERT INTO contacts (external_id, account_id, email, name, role, locale, consent_marketing, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'admin', 'ja', true, $5, $5) RETURNING id`,
      [ext, accountId, email, name, NOW],
    );
    await db.query(`INSERT INTO account_contacts (account_id, contact_id, role, joined_at) VALUES ($1, $2, 'admin', $3)`, [accountId, r.id, NOW]);
    ids[ext] = String(r.id);
    return String(r.id);
  };
  const usage = (accountId: string, contactId: string, offset: number, event = 'login', count = 3) =>
    db.query(`INSERT INTO event_rollups (account_id, event, day, contact_id, count, first_at, last_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`, [
      accountId,
      event,
      day(offset),
      contactId,
      count,
      `${day(offset)}T05:00:00Z`,
    ]);
  const health = (accountId: string, score: number, band: string, previous: number | null, components: object) =>
    db.query(`INSERT INTO account_health (account_id, score, band, previous_score, components, computed_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
      accountId,
      score,
      band,
      previous,
      JSON.stringify(components),
      NOW,
    ]);
  let msgSeq = 0;
  const message = async (o: { account: string; contact: string; email: string; journey: string; template: string; status: string; reason?: string; daysAgo: number; subject: string }) => {
    const [r] = await db.query(
      `INSERT INTO messages (idempotency_key, account_id, contact_id, to_email, journey_key, step_id, template, template_version, locale, category, context, subject,
                             status, reason, scheduled_at, created_at, updated_at, sent_at)
       VALUES ($1, $2, $3, $4, $5, 'step-1', $6, 'v1', 'ja', 'marketing', $7, $8, $9, $10, $11, $11, $11, CASE WHEN $9 = 'sent' THEN $11::timestamptz END) RETURNING id`,
      [`fx-${++msgSeq}`, o.account, o.contact, o.email, o.journey, o.template, JSON.stringify({ contact: { name: 'from context' } }), o.subject, o.status, o.reason ?? null, at(-o.daysAgo)],
    );
    return String(r.id);
  };
  const engage = (o: { message: string | null; contact: string; account: string; kind: string; machine?: boolean; daysAgo: number; data?: object; url?: string }) =>
    db.query(`INSERT INTO engagement_events (message_id, contact_id, account_id, kind, machine, classification, url, data, occurred_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, [
      o.message,
      o.contact,
      o.account,
      o.kind,
      o.machine ?? false,
      o.machine ? 'prefetch' : 'human',
      o.url ?? null,
      JSON.stringify(o.data ?? {}),
      at(-o.daysAgo, 2),
    ]);

  // An engaged account whose contact's name is a script tag.
  const active = await account('acc-active', XSS_ACCOUNT, 'adoption', 'Sato');
  const x = await contact('u-xss', active, XSS_CONTACT, 'xss@acme.example');
  const ken = await contact('u-ken', active, '佐藤 健太', 'ken@acme.example');
  await usage(active, x, -1);
  await usage(active, ken, -1, 'report_created', 2);
  await usage(active, ken, -3);
  await health(active, 72, 'green', 65, { logins: { value: 12, points: 80, weight: 2, contribution: 40 }, email: { value: 3, points: 64, weight: 1, contribution: 32 } });
  ids.m_sent = await message({ account: active, contact: x, email: 'xss@acme.example', journey: 'onboarding-welcome', template: 'welcome', status: 'sent', daysAgo: 5, subject: 'Welcome <b>aboard</b>' });
  ids.m_capped = await message({ account: active, contact: ken, email: 'ken@acme.example', journey: 'onboarding-welcome', template: 'tips', status: 'capped', reason: 'weekly cap reached', daysAgo: 4, subject: 'Tips' });
  ids.m_machine = await message({ account: active, contact: ken, email: 'ken@acme.example', journey: 'onboarding-welcome', template: 'welcome', status: 'sent', daysAgo: 3, subject: 'Welcome' });
  ids.m_holdout = await message({ account: active, contact: ken, email: 'ken@acme.example', journey: 'onboarding-welcome', template: 'welcome', status: 'holdout', daysAgo: 3, subject: 'Welcome' });
  await engage({ message: ids.m_sent, contact: x, account: active, kind: 'open', daysAgo: 5 });
  await engage({ message: ids.m_sent, contact: x, account: active, kind: 'click', daysAgo: 5, url: 'https://app.example/reports' });
  await engage({ message: ids.m_machine, contact: ken, account: active, kind: 'open', machine: true, daysAgo: 3 });
  await engage({ message: ids.m_machine, contact: ken, account: active, kind: 'survey', daysAgo: 2, data: { kind: 'nps', score: 9 } });
  await db.query(
    `INSERT INTO survey_responses (message_id, contact_id, account_id, kind, score, comment, machine, classification, first_at, answered_at)
     VALUES ($1, $2, $3, 'nps', 9, $4, false, 'human', $5, $5)`,
    [ids.m_machine, ken, active, 'レポートが便利 <i>really</i>', at(-2, 2)],
  );

  // Quiet: used the product 30 days ago; only a machine opened its email since.
  const quiet = await account('acc-quiet', 'Quiet Co', 'onboarding', null);
  const q1 = await contact('u-quiet', quiet, 'Quiet Person', 'quiet@quiet.example');
  await usage(quiet, q1, -30);
  await health(quiet, 35, 'red', 50, { logins: { value: 0, points: 10, weight: 2, contribution: 5 } });
  ids.m_quiet = await message({ account: quiet, contact: q1, email: 'quiet@quiet.example', journey: 'onboarding-welcome', template: 'welcome', status: 'sent', daysAgo: 3, subject: 'Welcome' });
  await engage({ message: ids.m_quiet, contact: q1, account: quiet, kind: 'open', machine: true, daysAgo: 3 });
  const [h] = await db.query(
    `INSERT INTO handoffs (idempotency_key, account_id, contact_id, journey_key, step_id, reason, signals, status, created_at)
     VALUES ('fx-h1', $1, $2, 'onboarding-welcome', 'handoff', 'No login for 14 days after onboarding emails', $3, 'open', $4) RETURNING id`,
    [quiet, q1, JSON.stringify({ logins_14d: 0, health: 35, note: '<b>not bold</b>' }), at(-1)],
  );
  ids.handoff = String(h.id);

  // Opened: no usage for 40 days, but a person opened an email two days ago (engaged).
  const opened = await account('acc-opened', 'Opened KK', 'onboarding', 'Tanaka', true);
  const o1 = await contact('u-opened', opened, 'Opener', 'open@opened.example');
  await usage(opened, o1, -40);
  ids.m_opened = await message({ account: opened, contact: o1, email: 'open@opened.example', journey: 'adoption-nudge', template: 'nudge', status: 'sent', daysAgo: 2, subject: 'Nudge' });
  await engage({ message: ids.m_opened, contact: o1, account: opened, kind: 'open', daysAgo: 2 });

  // Never used anything, never scored.
  await account('acc-never', 'Never Inc', 'onboarding', null);

  // Bulk accounts in use yesterday, so the list pages.
  await db.query(
    `INSERT INTO accounts (external_id, name, phase, csm_owner, high_touch, created_at, updated_at)
     SELECT 'bulk-' || lpad(g::text, 3, '0'), 'Bulk ' || lpad(g::text, 3, '0'), (ARRAY['adoption','established'])[1 + g % 2], 'Kim', false, $1, $1 FROM generate_series(1, $2::int) g`,
    [NOW, BULK],
  );
  await db.query(
    `INSERT INTO event_rollups (account_id, event, day, contact_id, count, first_at, last_at)
     SELECT id, 'login', $1::date, 0, 1, $2, $2 FROM accounts WHERE external_id LIKE 'bulk-%'`,
    [day(-1), `${day(-1)}T05:00:00Z`],
  );
  // Health history for the engaged account, when the health capability's table exists.
  const [{ ok }] = await db.query(`SELECT to_regclass('public.health_snapshots') IS NOT NULL AS ok`);
  if (ok) {
    for (let d = 9; d >= 0; d--) {
      const score = 60 + (9 - d) * 1.5;
      await db.query(`INSERT INTO health_snapshots (account_id, day, score, band, profile, components, computed_at) VALUES ($1, $2, $3, $4, 'default', $5, $6)`, [
        active,
        day(-d),
        score,
        score >= 70 ? 'green' : 'yellow',
        JSON.stringify({ logins: { value: 5 + d, points: 60, weight: 2, contribution: 30 + (9 - d) }, email: { value: 1, points: 60, weight: 1, contribution: 30 } }),
        NOW,
      ]);
    }
  }
  return ids;
}

/**
 * Enrollments of one journey as the engine records them (after its versions are stored):
 * 40 treated (20 per split arm, 12 converted), 10 held out (1 converted), some still waiting
 * at steps; and one enrollment of the engaged account with its history, for the timeline.
 */
export async function seedEnrollments(db: TestDatabase, ids: Record<string, string>): Promise<{ journey: string }> {
  const journey = 'adoption-key-feature';
  const [{ version_id }] = await db.query(`SELECT current_version_id AS version_id FROM journeys WHERE key = $1`, [journey]);
  const bulk = await db.query<{ id: string }>(`SELECT id FROM accounts WHERE external_id LIKE 'bulk-%' ORDER BY id LIMIT 50`);
  for (let i = 0; i < 50; i++) {
    const holdout = i >= 40;
    const arm = i % 2 === 0 ? 'spotlight-now' : 'spotlight-tuesday';
    const converted = holdout ? i === 40 : i < 12;
    const waiting = !converted && !holdout && i >= 12 && i < 20 ? (i < 17 ? 'wait-use' : 'tuesday') : null;
    const status = converted ? 'converted' : waiting ? 'active' : 'completed';
    await db.query(
      `INSERT INTO enrollments (journey_key, version_id, subject_type, subject_id, account_id, status, step_id, step_started_at, entered_at, holdout, arms, ended_at, created_at, updated_at)
       VALUES ($1, $2, 'account', $3, $3, $4, $5, $6, $6, $7, $8, $9, $6, $6)`,
      [journey, version_id, bulk[i].id, status, waiting ?? 'tag', `${day(-10)}T01:00:00Z`, holdout, JSON.stringify({ ab: arm }), status === 'active' ? null : `${day(-2)}T01:00:00Z`],
    );
  }
  const [e] = await db.query(
    `INSERT INTO enrollments (journey_key, version_id, subject_type, subject_id, account_id, contact_id, status, step_id, step_started_at, entered_at, holdout, arms, created_at, updated_at)
     VALUES ($1, $2, 'account', $3, $3, $4, 'active', 'wait-use', $5, $5, false, '{"ab":"spotlight-now"}', $5, $5) RETURNING id`,
    [journey, version_id, ids['acc-active'], ids['u-xss'], `${day(-6)}T01:00:00Z`],
  );
  await db.query(
    `INSERT INTO enrollment_history (enrollment_id, step_id, outcome, reason, at) VALUES
       ($1, NULL, 'entered', 'trigger: days_since_contract_start >= 30', $2), ($1, 'ab', 'split', 'arm spotlight-now', $2), ($1, 'spotlight', 'sent', 'template adoption-feature-spotlight', $3)`,
    [e.id, `${day(-6)}T01:00:00Z`, `${day(-6)}T01:05:00Z`],
  );
  return { journey };
}
