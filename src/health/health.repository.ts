import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import type { Band, HealthModel } from './health-model';
import { recomputeSql } from './health-sql';

export interface RecomputeOutcome {
  accounts: number;
  bands: Record<Band, number>;
  snapshotsPruned: number;
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

// One recompute at a time across every process sharing the database.
const LOCK = "hashtext('touchline:health-recompute')";

@Injectable()
export class HealthRepository {
  constructor(private readonly db: Db) {}

  /**
   * Recomputes every account in one statement and prunes old snapshots, in one transaction.
   * With `wait: false` it returns null when another process is already recomputing.
   */
  async recompute(model: HealthModel, today: string, now: Date, keepDays: number, wait: boolean): Promise<RecomputeOutcome | null> {
    const { sql, params } = recomputeSql(model, today, now);
    return this.db.transaction(async (tx) => {
      if (wait) await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
      else {
        const [got] = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${LOCK}) AS ok`);
        if (!got.ok) return null;
      }
      // Room for the hash aggregates over a month of rollups of every account (this transaction only).
      await tx.query(`SET LOCAL work_mem = '256MB'`);
      const rows = await tx.query<{ band: Band; accounts: number }>(sql, params);
      const bands: Record<Band, number> = { green: 0, yellow: 0, red: 0 };
      for (const r of rows) bands[r.band] = r.accounts;
      const pruned = await tx.query<{ n: number }>(
        `WITH gone AS (DELETE FROM health_snapshots WHERE day <= $1::date - $2::int RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [today, keepDays],
      );
      return { accounts: rows.reduce((n, r) => n + r.accounts, 0), bands, snapshotsPruned: pruned[0].n };
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
