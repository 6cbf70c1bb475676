import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Db } from '../../src/database/db';
import { DemoService } from '../../src/demo/demo.service';
import { healthSignalSql, HealthSignal } from '../../src/health/health-signals';
import { scoredSql, stageSql } from '../../src/health/health-sql';
import { HealthScheduler } from '../../src/health/health.scheduler';
import { HealthService } from '../../src/health/health.service';
import { SignalsService } from '../../src/signals/signals.service';
import { SqlParams } from '../../src/signals/sql-params';
import { startTestApp, TestApp } from '../support/app';
import { scoreOneAccountJs } from '../support/health-per-account';

// 2026-11-20 is "today" (UTC); the shipped health.yaml is the model.
let t: TestApp;
const ids: Record<string, string> = {};

async function account(externalId: string, phase: string, seats: number | null): Promise<string> {
  const [row] = await t.db.query(
    `INSERT INTO accounts (external_id, name, phase, seats, created_at, updated_at) VALUES ($1, $1, $2, $3, now(), now()) RETURNING id`,
    [externalId, phase, seats],
  );
  ids[externalId] = String(row.id);
  return String(row.id);
}

async function rollup(accountId: string, event: string, day: string, contactId: string | number, count: number) {
  await t.db.query(
    `INSERT INTO event_rollups (account_id, event, day, contact_id, count, first_at, last_at) VALUES ($1, $2, $3, $4, $5, $3::date + time '09:00', $3::date + time '10:00')`,
    [accountId, event, day, contactId, count],
  );
}

/** Usage, email, NPS and hand-offs whose health is worked out by hand in health-model.test.ts (MIXED). */
async function seedMixed(externalId: string, phase: string) {
  const a = await account(externalId, phase, 20);
  const contacts: string[] = [];
  for (let i = 1; i <= 5; i++) {
    const [c] = await t.db.query(`INSERT INTO contacts (external_id, account_id, email, created_at, updated_at) VALUES ($1, $2, $3, now(), now()) RETURNING id`, [
      `${externalId}-c${i}`,
      a,
      `c${i}@${externalId}.example`,
    ]);
    contacts.push(String(c.id));
  }
  const [c1, c2, c3, c4, c5] = contacts;
  // Last login 10 days ago; 6 logins in the last 14 days against 10 in the 14 before: 0.6.
  await rollup(a, 'login', '2026-11-10', c1, 3);
  await rollup(a, 'login', '2026-11-10', c2, 3);
  await rollup(a, 'login', '2026-10-30', c3, 5);
  await rollup(a, 'login', '2026-10-30', c4, 5);
  // Key features in 30 days: report_created and export_csv (2); mail_sent is not a key feature;
  // dashboard_viewed (and its contact c5) is older than 30 days; contact 0 is nobody.
  await rollup(a, 'report_created', '2026-11-01', c1, 2);
  await rollup(a, 'export_csv', '2026-10-25', c2, 1);
  await rollup(a, 'mail_sent', '2026-11-12', c1, 4);
  await rollup(a, 'dashboard_viewed', '2026-10-15', c5, 1);
  await rollup(a, 'page_view', '2026-11-12', 0, 7);
  // Email: 4 sent in 60 days, one opened by a person (machine open and bot click do not count).
  const msg = async (key: string, status: string, sentAt: string | null) => {
    const [m] = await t.db.query(
      `INSERT INTO messages (idempotency_key, account_id, contact_id, to_email, template, locale, category, status, scheduled_at, created_at, updated_at, sent_at)
       VALUES ($1, $2, $3, 'c1@x.example', 'nudge', 'ja', 'marketing', $4, COALESCE($5::timestamptz, now()), now(), now(), $5::timestamptz) RETURNING id`,
      [`${externalId}-${key}`, a, c1, status, sentAt],
    );
    return String(m.id);
  };
  const engage = async (messageId: string | null, kind: string, machine: boolean, at: string, data: object = {}, contact = c1) =>
    t.db.query(`INSERT INTO engagement_events (message_id, contact_id, account_id, kind, machine, data, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      messageId,
      contact,
      a,
      kind,
      machine,
      JSON.stringify(data),
      at,
    ]);
  const m1 = await msg('m1', 'sent', '2026-11-01T01:00:00Z');
  const m2 = await msg('m2', 'sent', '2026-11-05T01:00:00Z');
  const m3 = await msg('m3', 'sent', '2026-11-10T01:00:00Z');
  const m4 = await msg('m4', 'sent', '2026-11-15T01:00:00Z');
  await msg('m5', 'queued', null);
  const old = await msg('m6', 'sent', '2026-09-01T01:00:00Z');
  await engage(m1, 'open', false, '2026-11-01T05:00:00Z');
  await engage(m1, 'click', false, '2026-11-01T05:01:00Z');
  await engage(m2, 'open', true, '2026-11-05T01:00:02Z');
  await engage(m3, 'click', true, '2026-11-10T01:00:03Z');
  await engage(old, 'open', false, '2026-09-02T01:00:00Z');
  // NPS: the latest human answer is 9 (a machine-flagged one after it and a CSAT do not count).
  await engage(m1, 'survey', false, '2026-11-01T06:00:00Z', { kind: 'nps', score: 5 });
  await engage(m4, 'survey', false, '2026-11-15T06:00:00Z', { kind: 'nps', score: 9 }, c2);
  await engage(m4, 'survey', true, '2026-11-18T06:00:00Z', { kind: 'nps', score: 0 });
  await engage(m4, 'survey', false, '2026-11-19T06:00:00Z', { kind: 'csat', score: 1 });
  // One open hand-off (a closed one does not count).
  await t.db.query(`INSERT INTO handoffs (idempotency_key, account_id, reason, status, created_at) VALUES ($1, $2, 'at risk', 'open', now()), ($3, $2, 'old', 'closed', now())`, [
    `${externalId}-h1`,
    a,
    `${externalId}-h2`,
  ]);
}

const MIXED_COMPONENTS = {
  usage_recency: { value: 10, points: 57.86, weight: 25, contribution: 14.46 },
  usage_frequency: { value: 0.6, points: 51.25, weight: 15, contribution: 7.69 },
  feature_breadth: { value: 2, points: 55, weight: 20, contribution: 11 },
  active_users: { value: 0.2, points: 52.5, weight: 15, contribution: 7.88 },
  email_engagement: { value: 0.25, points: 66.67, weight: 10, contribution: 6.67 },
  nps: { value: 9, points: 90, weight: 10, contribution: 9 },
  open_handoffs: { value: 1, points: 40, weight: 5, contribution: 2 },
};

async function healthSignal(accountId: string, signal: HealthSignal): Promise<unknown> {
  const params = new SqlParams([t.clock.now().toISOString().slice(0, 10), accountId]);
  const [row] = await t.db.query(`SELECT $1::date AS today, ${healthSignalSql(signal, '$2::bigint', params, '$1::date')} AS v`, params.values);
  return row.v;
}

beforeAll(async () => {
  t = await startTestApp({ now: '2026-11-20T03:00:00Z' });
  await seedMixed('mixed', 'adoption');
  await seedMixed('starter', 'onboarding');
  await account('idle', 'adoption', 10);
  // Last login 45 days ago: outside every usage window, so "days since last" comes from the index probe.
  await rollup(await account('lapsed', 'adoption', 10), 'login', '2026-10-06', 1, 2);
});
afterAll(() => t.close());

describe('health recompute (set-based SQL) against hand-calculated values', () => {
  it('scores every account in one recompute and explains each score by its components', async () => {
    const scheduler = t.app.get(HealthScheduler);
    expect(await t.app.get(HealthService).due()).toBe(true); // accounts without a score
    const res = await t.request('POST', '/api/health/recompute');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ day: '2026-11-20', accounts: 4, bands: { green: 0, yellow: 2, red: 2 } });
    expect(await scheduler.tick()).toBe(false); // just computed: not due

    const mixed = await t.request('GET', '/api/accounts/mixed/health', { key: 'review' });
    expect(mixed.status).toBe(200);
    expect(mixed.body.current).toMatchObject({ score: 58.69, band: 'yellow', profile: 'default', previousScore: null, previousBand: null, bandChangedAt: null });
    expect(mixed.body.current.components).toEqual(MIXED_COMPONENTS);
    expect(mixed.body.history).toEqual([{ day: '2026-11-20', score: 58.69, band: 'yellow', profile: 'default', components: MIXED_COMPONENTS }]);

    const starter = await t.request('GET', '/api/accounts/starter/health');
    expect(starter.body.current).toMatchObject({ score: 55.53, band: 'yellow', profile: 'onboarding' });
    expect(starter.body.current.components.nps).toEqual({ value: 9, points: 90, weight: 0, contribution: 0 });

    const idle = await t.request('GET', '/api/accounts/idle/health');
    expect(idle.body.current).toMatchObject({ score: 6.25, band: 'red' });
    expect(idle.body.current.components.nps).toEqual({ value: null, points: null, weight: 10, contribution: 0 });

    const lapsed = (await t.request('GET', '/api/accounts/lapsed/health')).body.current;
    expect(lapsed).toMatchObject({ score: 6.25, band: 'red' });
    expect(lapsed.components.usage_recency).toEqual({ value: 45, points: 0, weight: 25, contribution: 0 });
  });

  it('agrees exactly with the per-account JavaScript computation through SignalsService', async () => {
    for (const [ext, id] of Object.entries(ids)) {
      const js = await scoreOneAccountJs(t.app.get(SignalsService), t.app.get(Db), t.app.get(HealthService).model(), id, t.clock.now());
      const sql = (await t.request('GET', `/api/accounts/${ext}/health`)).body.current;
      expect({ ext, score: sql.score, band: sql.band, components: sql.components }).toEqual({ ext, score: js.score, band: js.band, components: js.components });
    }
  });
});

describe('health history, trend and signals', () => {
  it('keeps one snapshot per account per day, with the band change and the trend', async () => {
    t.clock.advanceDays(1); // 2026-11-21
    await rollup(ids.idle, 'login', '2026-11-21', 999, 1);
    // idle now: recency 0 → 100, frequency 1/max(0,1) → 100, breadth 0 → 0, 1 of 10 seats → 30, hand-offs 100:
    // (2500 + 1500 + 0 + 450 + 500) / 80 = 61.875 → 61.88, yellow
    expect(await t.app.get(HealthScheduler).tick()).toBe(true); // a day later: due (HEALTH_RECOMPUTE_MINUTES=60)
    const idle = (await t.request('GET', '/api/accounts/idle/health?days=90')).body;
    expect(idle.current).toMatchObject({ score: 61.88, band: 'yellow', previousScore: 6.25, previousBand: 'red', bandChangedAt: '2026-11-21T03:00:00.000Z' });
    expect(idle.history.map((h: { day: string; score: number; band: string }) => [h.day, h.score, h.band])).toEqual([
      ['2026-11-20', 6.25, 'red'],
      ['2026-11-21', 61.88, 'yellow'],
    ]);
    expect(idle.trend).toEqual({ from: '2026-11-20', to: '2026-11-21', scoreChange: 55.63, min: 6.25, max: 61.88, direction: 'up', bandChanges: [{ day: '2026-11-21', from: 'red', to: 'yellow' }] });
    expect((await t.request('GET', '/api/accounts/idle/health?days=1')).body.history.map((h: { day: string }) => h.day)).toEqual(['2026-11-21']);
  });

  it('re-running the same day replaces that day’s snapshot and keeps the band change', async () => {
    t.clock.advance(30 * 60_000);
    await t.request('POST', '/api/health/recompute');
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM health_snapshots`);
    expect(n).toBe(8); // 4 accounts × 2 days
    const idle = (await t.request('GET', '/api/accounts/idle/health')).body.current;
    expect(idle).toMatchObject({ score: 61.88, band: 'yellow', previousScore: 61.88, previousBand: 'red', bandChangedAt: '2026-11-21T03:00:00.000Z' });
  });

  it('exposes score, band, change over a window and band changes as signals', async () => {
    expect(await healthSignal(ids.idle, { kind: 'health_score' })).toBe(61.88);
    expect(await healthSignal(ids.idle, { kind: 'health_band' })).toBe('yellow');
    expect(await healthSignal(ids.idle, { kind: 'health_score_change', days: 1 })).toBeCloseTo(55.63, 6);
    expect(await healthSignal(ids.idle, { kind: 'health_score_change', days: 5 })).toBeNull(); // no snapshot that old
    expect(await healthSignal(ids.idle, { kind: 'health_band_changed', days: 7, to: 'yellow' })).toBe(true);
    expect(await healthSignal(ids.idle, { kind: 'health_band_changed', days: 7, from: 'red' })).toBe(true);
    expect(await healthSignal(ids.idle, { kind: 'health_band_changed', days: 7, to: 'red' })).toBe(false);
    expect(await healthSignal(ids.mixed, { kind: 'health_band_changed', days: 7 })).toBe(false);
    t.clock.advanceDays(3);
    expect(await healthSignal(ids.idle, { kind: 'health_band_changed', days: 2, to: 'yellow' })).toBe(false); // out of the window
  });
});

describe('health API errors and scopes', () => {
  it('names bad input and unknown accounts, and enforces scopes', async () => {
    const bad = await t.request('GET', '/api/accounts/mixed/health?days=abc');
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems).toEqual([{ path: 'days', message: 'expected a whole number of days from 1 to 730 (got "abc")' }]);
    expect((await t.request('GET', '/api/accounts/mixed/health?days=0')).status).toBe(400);
    expect((await t.request('GET', '/api/accounts/nope/health')).status).toBe(404);
    expect((await t.request('POST', '/api/health/recompute', { key: 'review' })).status).toBe(403);
    expect((await t.request('GET', '/api/accounts/mixed/health', { key: 'ingest' })).status).toBe(403);
    expect((await t.request('GET', '/api/accounts/mixed/health', { key: null })).status).toBe(401);
    const model = await t.request('GET', '/api/health/model', { key: 'review' });
    expect(model.body.components.map((c: { name: string }) => c.name)).toEqual(['usage_recency', 'usage_frequency', 'feature_breadth', 'active_users', 'email_engagement', 'nps', 'open_handoffs']);
  });
});

describe('an invalid health.yaml', () => {
  it('is refused with file:line:col problems, and the scheduler keeps the last scores', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-health-'));
    const file = path.join(dir, 'health.yaml');
    fs.writeFileSync(file, 'bands: { green: 70, yellow: 40 }\ncomponents:\n  recency:\n    measure: days_since_last\n    events: [login]\n    weight: ten\n    points: [[0, 100], [30, 0]]\n');
    const bad = await startTestApp({ env: { HEALTH_MODEL_FILE: file } });
    try {
      const res = await bad.request('POST', '/api/health/recompute');
      expect(res.status).toBe(400);
      expect(res.body.error.problems).toEqual([{ path: `${file}:6:13: components.recency.weight`, message: 'expected a weight (a number, 0 or more)' }]);
      expect(await bad.app.get(HealthScheduler).tick()).toBe(false);
      expect(await bad.db.query('SELECT * FROM account_health')).toEqual([]);
    } finally {
      await bad.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('on demo data', () => {
  const NOW = '2026-11-20T03:00:00Z';
  let demo: TestApp;
  beforeAll(async () => {
    demo = await startTestApp({ now: NOW });
    await demo.app.get(DemoService).seed({ accounts: 40 });
  });
  afterAll(() => demo.close());
  const stored = async () => ({
    current: await demo.db.query(`SELECT account_id, score, band, profile, components::text AS components FROM account_health ORDER BY account_id`),
    snapshots: await demo.db.query(`SELECT account_id, day::text, score, band, profile, components::text AS components FROM health_snapshots ORDER BY account_id, day`),
  });

  it('every account gets a score, and the set-based SQL equals the per-account computation for each', async () => {
    const report = await demo.app.get(HealthService).recompute();
    expect(report?.accounts).toBe(40);
    const rows = await demo.db.query<{ id: string; score: string; band: string; components: unknown }>('SELECT account_id AS id, score, band, components FROM account_health ORDER BY account_id');
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.band)).size).toBeGreaterThan(1); // the demo patterns spread across bands
    const model = demo.app.get(HealthService).model();
    for (const r of rows) {
      const js = await scoreOneAccountJs(demo.app.get(SignalsService), demo.app.get(Db), model, r.id, demo.clock.now());
      expect({ id: r.id, score: Number(r.score), band: r.band, components: r.components }).toEqual({ id: r.id, score: js.score, band: js.band, components: js.components });
    }
  });

  it('gives the same rows when parallel workers run the recompute (they read the staging table of its transaction)', async () => {
    const serial = await stored();
    expect(serial.current).toHaveLength(40);
    await demo.db.query(`DELETE FROM health_snapshots`);
    await demo.db.query(`DELETE FROM account_health`);
    // New connections to this database plan every statement for parallel workers where PostgreSQL can.
    for (const setting of ['debug_parallel_query = on', 'parallel_setup_cost = 0', 'parallel_tuple_cost = 0', 'min_parallel_table_scan_size = 0']) {
      await demo.db.query(`ALTER DATABASE ${demo.db.name} SET ${setting}`);
    }
    // One shard: shards turn PostgreSQL's own parallel workers off.
    const parallel = await startTestApp({ now: NOW, db: demo.db, env: { HEALTH_RECOMPUTE_SHARDS: '1' } });
    try {
      const health = parallel.app.get(HealthService);
      expect((await health.recompute())?.accounts).toBe(40);
      expect(await stored()).toEqual(serial);
      // The JSON statement did run in a worker, over the uncommitted staging table.
      const model = health.model();
      const stage = stageSql(model, '2026-11-20', parallel.clock.now());
      const scored = scoredSql(model, 'health_stage');
      const plan = await parallel.app.get(Db).transaction(async (tx) => {
        await tx.query(`CREATE UNLOGGED TABLE health_stage AS ${stage.sql}`, stage.params);
        const [row] = await tx.query<{ 'QUERY PLAN': { Plan: Record<string, unknown> }[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${scored.sql}`, scored.params);
        await tx.query(`DROP TABLE health_stage`);
        return row['QUERY PLAN'][0].Plan;
      });
      expect(plan).toMatchObject({ 'Node Type': 'Gather', 'Actual Rows': 40 });
      expect(plan['Workers Launched']).toBeGreaterThan(0);
    } finally {
      await parallel.close();
      await demo.db.query(`ALTER DATABASE ${demo.db.name} RESET ALL`);
    }
  });
});
