import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import type { Band, HealthModel } from './health-model';
import { scoredSql, ShardRange, stageSql, WRITE_SQL } from './health-sql';
import type { Tx } from '../database/db';

export interface RecomputeOutcome {
  accounts: number;
  bands: Record<Band, number>;
  snapshotsPruned: number;
  /** Milliseconds per step (inside the transactions, the slowest shard's; the commits are not included). */
  phases: { score: number; current: number; snapshots: number; prune: number };
}

export interface CurrentHealthRow {
  score: string;
  band: Band;
  profile: string | null;
  previous_score: string | null;
  previous_band: Band | null;
  band_changed_at: Date | null;
  components: Record<string, unknown>;
  computed_at: Date;
}

export interface SnapshotRow {
  day: string;
  score: string;
  band: Band;
  profile: string;
  components: Record<string, unknown>;
}

interface ShardOutcome {
  accounts: number;
  bands: Record<Band, number>;
  phases: { score: number; current: number; snapshots: number };
}

const BANDS: Band[] = ['green', 'yellow', 'red'];

// One recompute at a time across every process sharing the database.
const LOCK = "hashtext('touchline:health-recompute')";

/**
 * `shards` contiguous ranges of account ids covering every id, with about as many of today's
 * accounts each (accounts added meanwhile fall in one of them). With fewer accounts than
 * shards, the last ones are empty.
 */
async function shardRanges(tx: Tx, shards: number): Promise<ShardRange[]> {
  if (shards <= 1) return [{ lo: MIN_ID, hi: MAX_ID }];
  const starts = await tx.query<{ lo: string }>(`SELECT min(id)::text AS lo FROM (SELECT id, ntile($1) OVER (ORDER BY id) AS k FROM accounts) x GROUP BY k ORDER BY k`, [shards]);
  const ranges: ShardRange[] = starts.map((s, k) => ({
    lo: k === 0 ? MIN_ID : s.lo,
    hi: k + 1 < starts.length ? (BigInt(starts[k + 1].lo) - 1n).toString() : MAX_ID,
  }));
  if (!ranges.length) ranges.push({ lo: MIN_ID, hi: MAX_ID });
  while (ranges.length < shards) ranges.push({ lo: '1', hi: '0' }); // no id
  return ranges;
}

const MIN_ID = '-9223372036854775808';
const MAX_ID = '9223372036854775807';

@Injectable()
export class HealthRepository {
  constructor(private readonly db: Db) {}

  /**
   * Recomputes every account, split by account id into `shards` ranges of about as many
   * accounts each, run at once on their own connections (one core each), each in its own
   * transaction (`recomputeShard`). A coordinating transaction holds the advisory lock from
   * before the first shard starts until every shard has finished, then prunes old snapshots.
   * With `wait: false` it returns null when another process is already recomputing. When a
   * shard fails, the others' committed scores stand; the first error is thrown once all ended.
   */
  async recompute(model: HealthModel, today: string, now: Date, keepDays: number, wait: boolean, shards = 1): Promise<RecomputeOutcome | null> {
    // Shard failures are retried inside each shard; retrying here would redo the committed ones.
    return this.db.transaction(async (tx) => {
      if (wait) await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
      else {
        const [got] = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${LOCK}) AS ok`);
        if (!got.ok) return null;
      }
      const ranges = await shardRanges(tx, shards);
      const settled = await Promise.allSettled(ranges.map((range, k) => this.recomputeShard(model, today, now, k, ranges.length > 1 ? range : undefined)));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      const parts = settled.map((s) => (s as PromiseFulfilledResult<ShardOutcome>).value);
      const started = process.hrtime.bigint();
      const pruned = await tx.query<{ n: number }>(
        `WITH gone AS (DELETE FROM health_snapshots WHERE day <= $1::date - $2::int RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [today, keepDays],
      );
      const bands: Record<Band, number> = { green: 0, yellow: 0, red: 0 };
      for (const part of parts) for (const band of BANDS) bands[band] += part.bands[band];
      // Shards run at once: each step's time is the slowest shard's.
      const slowest = (step: keyof ShardOutcome['phases']) => Math.max(...parts.map((part) => part.phases[step]));
      return {
        accounts: parts.reduce((n, part) => n + part.accounts, 0),
        bands,
        snapshotsPruned: pruned[0].n,
        phases: { score: slowest('score'), current: slowest('current'), snapshots: slowest('snapshots'), prune: Math.round(Number(process.hrtime.bigint() - started) / 1e6) },
      };
    }, 1);
  }

  /**
   * One shard (all accounts when `range` is undefined) in one transaction: measures into a
   * staging table, scores into a scratch table (one statement each), writes the current scores
   * and today's snapshots from it. The caller holds the advisory lock.
   */
  private recomputeShard(model: HealthModel, today: string, now: Date, k: number, range?: ShardRange): Promise<ShardOutcome> {
    const stage = stageSql(model, today, now, range);
    const table = `health_stage_${k}`;
    const scored = scoredSql(model, table);
    return this.db.transaction(async (tx) => {
      // Room for the hash aggregates over a month of rollups of every account (this transaction
      // only). Passing partial aggregates up from parallel workers is cheap next to the rows they
      // aggregate, which the default tuple cost does not see: without this the month of rollups
      // is scanned and grouped by one process while the other core idles. Several shards
      // already keep the cores busy: then no parallel workers.
      await tx.query(`SET LOCAL work_mem = '256MB'`);
      await tx.query(range ? `SET LOCAL max_parallel_workers_per_gather = 0` : `SET LOCAL parallel_tuple_cost = 0.01`);
      let mark = process.hrtime.bigint();
      const lap = () => {
        const at = process.hrtime.bigint();
        const ms = Number(at - mark) / 1e6;
        mark = at;
        return Math.round(ms);
      };
      // Measures, points and weights into an unlogged table (no WAL) that parallel workers can
      // read, as they cannot read a temporary one. It is created and dropped inside this
      // transaction; the advisory lock and the shard's number make it the only one using the
      // name; a rollback (or a crash) leaves nothing behind.
      await tx.query(`CREATE UNLOGGED TABLE ${table} AS ${stage.sql}`, stage.params);
      // Score, band and the components' JSON, in parallel where PostgreSQL sees a gain, into a
      // temporary table (no WAL, dropped at commit or rollback, so a retried transaction starts clean).
      await tx.query(`CREATE TEMP TABLE health_scratch ON COMMIT DROP AS ${scored.sql}`, scored.params);
      await tx.query(`DROP TABLE ${table}`);
      // A key and statistics, so that the joins of the updates are planned on real numbers.
      await tx.query(`ALTER TABLE health_scratch ADD PRIMARY KEY (account_id)`);
      await tx.query(`ANALYZE health_scratch (account_id, has_current, has_snapshot)`);
      const score = lap();
      const at = [now.toISOString(), today];
      await tx.query(WRITE_SQL.updateCurrent, [at[0]]);
      await tx.query(WRITE_SQL.insertCurrent, [at[0]]);
      const current = lap();
      await tx.query(WRITE_SQL.updateSnapshots, at);
      await tx.query(WRITE_SQL.insertSnapshots, at);
      const snapshots = lap();
      const rows = await tx.query<{ band: Band; accounts: number }>(`SELECT band, count(*)::int AS accounts FROM health_scratch GROUP BY band`);
      const bands: Record<Band, number> = { green: 0, yellow: 0, red: 0 };
      for (const r of rows) bands[r.band] = r.accounts;
      return { accounts: rows.reduce((n, r) => n + r.accounts, 0), bands, phases: { score, current, snapshots } };
    });
  }

  /** When the last recompute ran, and whether some account has no score yet. */
  async status(): Promise<{ lastComputedAt: Date | null; unscored: boolean }> {
    const [row] = await this.db.query<{ last: Date | null; unscored: boolean }>(
      `SELECT (SELECT max(computed_at) FROM account_health) AS last,
              EXISTS (SELECT 1 FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM account_health h WHERE h.account_id = a.id)) AS unscored`,
    );
    return { lastComputedAt: row.last, unscored: row.unscored };
  }

  async current(accountId: string): Promise<CurrentHealthRow | undefined> {
    const [row] = await this.db.query<CurrentHealthRow>(
      `SELECT score, band, profile, previous_score, previous_band, band_changed_at, components, computed_at FROM account_health WHERE account_id = $1`,
      [accountId],
    );
    return row;
  }

  /** Snapshots from `fromDay` (inclusive) to today, oldest first. */
  async history(accountId: string, fromDay: string): Promise<SnapshotRow[]> {
    return this.db.query<SnapshotRow>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, score, band, profile, components
         FROM health_snapshots WHERE account_id = $1 AND day >= $2::date ORDER BY day`,
      [accountId, fromDay],
    );
  }
}
