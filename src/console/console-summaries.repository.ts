import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export const SUMMARIES = ['console_account_activity', 'console_message_stats'] as const;

/** Refreshes the console's summaries without blocking readers, and says when each was last refreshed. */
@Injectable()
export class ConsoleSummariesRepository {
  constructor(private readonly db: Db) {}

  async refresh(name: (typeof SUMMARIES)[number], at: Date): Promise<number> {
    const t0 = performance.now();
    await this.db.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${name}`);
    const took = Math.round(performance.now() - t0);
    await this.db.query(
      `INSERT INTO console_refreshes (name, refreshed_at, took_ms) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET refreshed_at = excluded.refreshed_at, took_ms = excluded.took_ms`,
      [name, at, took],
    );
    return took;
  }

  async refreshedAt(name: (typeof SUMMARIES)[number]): Promise<Date | null> {
    const [row] = await this.db.query<{ refreshed_at: Date }>(`SELECT refreshed_at FROM console_refreshes WHERE name = $1`, [name]);
    return row?.refreshed_at ?? null;
  }
}
