import { Injectable } from '@nestjs/common';
import { Db, Tx } from '../database/db';
import { Statement } from './trigger-sql';

export interface EntryCounts {
  enrolled: number;
  candidates: number;
}

/** Runs the set-based trigger statements (built in trigger-sql.ts) and keeps the event cursors. */
@Injectable()
export class TriggersRepository {
  constructor(private readonly db: Db) {}

  async enter(stmt: Statement, tx: Tx = this.db): Promise<EntryCounts> {
    const [row] = await tx.query<EntryCounts>(stmt.sql, stmt.params);
    return { enrolled: Number(row?.enrolled ?? 0), candidates: Number(row?.candidates ?? 0) };
  }

  /**
   * Runs an entry statement built `exclusive` (plain inserts) under the journey's entry lock,
   * taken for the transaction (`tx`'s, or one of its own). Another process evaluating the same journey right now holds
   * it: this one skips (undefined) instead of repeating the work. A writer outside the lock
   * (an event or date trigger of the same journey key racing a change of trigger type) can
   * only make the statement fail on the unique index: nothing is written, the next pass redoes it.
   */
  async enterExclusive(journeyKey: string, stmt: Statement, tx?: Tx): Promise<EntryCounts | undefined> {
    const work = async (t: Tx) => {
      const [{ locked }] = await t.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('touchline:entry:' || $1)) AS locked`, [journeyKey]);
      return locked ? this.enter(stmt, t) : undefined;
    };
    return tx ? work(tx) : this.db.transaction(work);
  }

  /**
   * One pass over the events committed since the cursor named `name`, exactly once across
   * processes: a REPEATABLE READ transaction whose snapshot both selects the new events and
   * becomes the next cursor. Concurrent passes on the same cursor skip (advisory lock) or
   * fail serialization and are retried. Returns undefined when another process holds it.
   */
  async eventPass<T>(name: string, now: Date, work: (tx: Tx, cursor: string) => Promise<T>): Promise<T | undefined> {
    return this.db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const [{ locked }] = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('touchline:events:' || $1)) AS locked`, [name]);
      if (!locked) return undefined;
      const rows = await tx.query<{ snapshot: string }>(`SELECT snapshot FROM engine_cursors WHERE name = $1 FOR UPDATE`, [name]);
      if (!rows[0]) {
        // First pass: start from now (history before the journey existed does not trigger it).
        await tx.query(`INSERT INTO engine_cursors (name, snapshot, updated_at) VALUES ($1, pg_current_snapshot()::text, $2) ON CONFLICT (name) DO NOTHING`, [name, now]);
        return undefined;
      }
      const result = await work(tx, rows[0].snapshot);
      await tx.query(`UPDATE engine_cursors SET snapshot = pg_current_snapshot()::text, updated_at = $2 WHERE name = $1`, [name, now]);
      return result;
    });
  }

  /**
   * Runs `work` unless another process is running it now (advisory lock) or ran it less than
   * `minGapMs` ago (the cursor's updated_at): with several worker processes a scheduled trigger
   * is evaluated about once per interval in all, not once per process. Returns undefined when skipped.
   */
  async oncePerInterval<T>(name: string, now: Date, minGapMs: number, work: (tx: Tx) => Promise<T>): Promise<T | undefined> {
    return this.db.transaction(async (tx) => {
      const [{ locked }] = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('touchline:interval:' || $1)) AS locked`, [name]);
      if (!locked) return undefined;
      const [last] = await tx.query<{ updated_at: Date }>(`SELECT updated_at FROM engine_cursors WHERE name = $1`, [name]);
      if (last && now.getTime() - last.updated_at.getTime() < minGapMs && now.getTime() >= last.updated_at.getTime()) return undefined;
      const result = await work(tx);
      await tx.query(
        `INSERT INTO engine_cursors (name, snapshot, updated_at) VALUES ($1, pg_current_snapshot()::text, $2)
         ON CONFLICT (name) DO UPDATE SET snapshot = EXCLUDED.snapshot, updated_at = EXCLUDED.updated_at`,
        [name, now],
      );
      return result;
    });
  }

  /** Starts a cursor at the current snapshot if it does not exist (a journey's events count from its first load). */
  async initCursor(tx: Tx, name: string, now: Date): Promise<void> {
    await tx.query(`INSERT INTO engine_cursors (name, snapshot, updated_at) VALUES ($1, pg_current_snapshot()::text, $2) ON CONFLICT (name) DO NOTHING`, [name, now]);
  }

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Locks a journey's schedule row; returns its due occurrence, or undefined when not due (or taken). */
  async lockDueSchedule(tx: Tx, key: string, now: Date): Promise<Date | undefined> {
    const rows = await tx.query<{ next_fire_at: Date }>(
      `SELECT next_fire_at FROM journeys WHERE key = $1 AND status = 'active' AND next_fire_at <= $2 FOR UPDATE SKIP LOCKED`,
      [key, now],
    );
    return rows[0]?.next_fire_at;
  }

  async setNextFire(tx: Tx, key: string, at: Date | null): Promise<void> {
    await tx.query(`UPDATE journeys SET next_fire_at = $2 WHERE key = $1`, [key, at]);
  }
}
