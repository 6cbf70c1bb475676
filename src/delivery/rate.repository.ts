import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

/** The send-rate row (see RateLimiter); timed on the database's clock, shared by all processes. */
@Injectable()
export class RateRepository {
  constructor(private readonly db: Db) {}

  /**
   * Moves the limiter `ms` forward from max(its position, now) and answers how far ahead of
   * the database's present it now ends, in milliseconds.
   */
  async advance(name: string, ms: number): Promise<number> {
    // Prepared once per pooled connection: it runs once per group of sends.
    const rows = await this.db.prepared<{ ahead_ms: number }>(
      'delivery_rate_advance',
      `INSERT INTO delivery_rate AS r (name, tat) VALUES ($1, clock_timestamp() + make_interval(secs => $2::float8 / 1000))
       ON CONFLICT (name) DO UPDATE SET tat = greatest(r.tat, clock_timestamp()) + make_interval(secs => $2::float8 / 1000)
       RETURNING (extract(epoch FROM (r.tat - clock_timestamp())) * 1000)::float8 AS ahead_ms`,
      [name, ms],
    );
    return Number(rows[0].ahead_ms);
  }
}
