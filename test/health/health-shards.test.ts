import { DemoService } from '../../src/demo/demo.service';
import { HealthRepository, RecomputeOutcome } from '../../src/health/health.repository';
import { HealthService } from '../../src/health/health.service';
import { startTestApp, TestApp } from '../support/app';

// The recompute split by account id over K connections (HEALTH_RECOMPUTE_SHARDS) writes exactly
// the rows of one transaction over every account, and still runs one at a time.
const NOW = '2026-11-20T03:00:00Z';
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ now: NOW });
  await t.app.get(DemoService).seed({ accounts: 40 });
});
afterAll(() => t.close());

/** Every stored health row, in a fixed order, as text. */
async function stored(app: TestApp) {
  return {
    current: await app.db.query(
      `SELECT account_id, score, band, profile, previous_score, previous_band, band_changed_at::text, components::text, computed_at::text FROM account_health ORDER BY account_id`,
    ),
    snapshots: await app.db.query(`SELECT account_id, day::text, score, band, profile, components::text, computed_at::text FROM health_snapshots ORDER BY account_id, day`),
  };
}

/**
 * From no scores: a first day (inserts), the next day (updates the current rows, inserts
 * snapshots, bands change), the same day again (updates), with `shards` connections. Returns the
 * reports and the rows stored.
 */
async function history(app: TestApp, shards: number) {
  await app.db.query(`DELETE FROM health_snapshots`);
  await app.db.query(`DELETE FROM account_health`);
  const repo = app.app.get(HealthRepository);
  const model = app.app.get(HealthService).model();
  const reports: (RecomputeOutcome | null)[] = [];
  for (const [day, now] of [
    ['2026-11-20', '2026-11-20T03:00:00Z'],
    ['2026-12-10', '2026-12-10T03:00:00Z'],
    ['2026-12-10', '2026-12-10T04:00:00Z'],
  ]) {
    reports.push(await repo.recompute(model, day, new Date(now), 400, true, shards));
  }
  const counts = reports.map((r) => r && { accounts: r.accounts, bands: r.bands, snapshotsPruned: r.snapshotsPruned });
  return { counts, rows: await stored(app) };
}

describe('a recompute sharded by account', () => {
  it('writes the same scores, bands, components and snapshots for 1, 2 and 3 shards', async () => {
    const single = await history(t, 1);
    expect(single.rows.current).toHaveLength(40);
    expect(single.rows.snapshots).toHaveLength(80);
    expect(new Set(single.rows.current.map((r: { band: string }) => r.band)).size).toBeGreaterThan(1);
    expect(single.rows.current.some((r: { band_changed_at: string | null }) => r.band_changed_at !== null)).toBe(true); // the second day changed bands
    expect(single.counts.map((c) => c?.accounts)).toEqual([40, 40, 40]);
    for (const shards of [2, 3]) expect({ shards, ...(await history(t, shards)) }).toEqual({ shards, ...single });
  });

  it('is the same with shards that have no accounts, and with no accounts at all', async () => {
    const few = await startTestApp({ now: NOW });
    try {
      await few.app.get(DemoService).seed({ accounts: 2 });
      const single = await history(few, 1);
      expect(single.rows.current).toHaveLength(2);
      expect(await history(few, 3)).toEqual(single); // the third shard has no account
      await few.db.query(`DELETE FROM accounts`);
      expect((await history(few, 3)).counts).toEqual([0, 0, 0].map(() => ({ accounts: 0, bands: { green: 0, yellow: 0, red: 0 }, snapshotsPruned: 0 })));
    } finally {
      await few.close();
    }
  });

  it('holds the lock until every shard has finished: another recompute skips (wait: false) or waits', async () => {
    const health = t.app.get(HealthService);
    // Writes to the snapshots wait for this transaction, so the shards stop before their last write.
    const blocker = await t.db.pool.connect();
    await blocker.query(`BEGIN`);
    await blocker.query(`LOCK TABLE health_snapshots IN EXCLUSIVE MODE`);
    const first = t.app.get(HealthRepository).recompute(health.model(), '2026-12-11', new Date('2026-12-11T03:00:00Z'), 400, true, 2);
    try {
      // Both shards are waiting on their snapshot write.
      for (let waited = 0; ; waited += 50) {
        const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'health_snapshots'::regclass AND NOT granted`);
        if (n === 2) break;
        if (waited > 30_000) throw new Error(`expected both shards to wait on health_snapshots, ${n} do`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await health.recompute({ wait: false })).toBeNull();
      let secondDone = false;
      const second = health.recompute({ wait: true }).then((r) => ((secondDone = true), r));
      await new Promise((r) => setTimeout(r, 300));
      expect(secondDone).toBe(false);
      await blocker.query(`COMMIT`);
      expect((await first)?.accounts).toBe(40);
      expect((await second)?.accounts).toBe(40);
    } finally {
      await blocker.query(`ROLLBACK`).catch(() => undefined);
      blocker.release();
    }
    expect(await health.recompute({ wait: false })).toMatchObject({ accounts: 40 });
  });
});
