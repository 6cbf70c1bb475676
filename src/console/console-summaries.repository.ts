import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export const SUMMARIES = ['console_account_activity', 'console_message_stats'] as const;

/** Refreshes the console's summaries without blocking readers, and says when each was last refreshed. */
@Injectable()
export class ConsoleSummariesRepository {
  constructor(private readonly db: Db) {}

  /** `startedAt` is taken before the refresh's snapshot: rows created after it may be missing from the summary. */
  async refresh(name: (typeof SUMMARIES)[number], startedAt: Date, clock: () => Date): Promise<number> {
    const t0 = performance.now();
    await this.db.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${name}`);
    const took = Math.round(performance.now() - t0);
    await this.db.query(
      `INSERT INTO console_refreshes (name, started_at, refreshed_at, took_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, refreshed_at = excluded.refreshed_at, took_ms = excluded.took_ms`,
      [name, startedAt, clock(), took],
    );
    return took;
  }

  async refreshedAt(name: (typeof SUMMARIES)[number]): Promise<Date | null> {
    const [row] = await this.db.query<{ refreshed_at: Date }>(`SELECT refreshed_at FROM console_refreshes WHERE name = $1`, [name]);
    return row?.refreshed_at ?? null;
  }
}
