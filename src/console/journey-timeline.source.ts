import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export interface JourneyTimelineEvent {
  at: Date;
  event: { journey_key: string; event: string; step_id: string | null; contact_name: string | null; detail: string | null };
}

/**
 * Journey entries and steps of an account for its timeline, from the engine's enrollment
 * history (outcomes: entered, sent, holdout, waiting, handoff, converted, completed…). The
 * engine's tables land separately: until they exist the timeline shows the rest.
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
    const rows = await this.db.query<{ at: Date; journey_key: string; outcome: string; step_id: string | null; contact_name: string | null; reason: string }>(
      `SELECT h.at, e.journey_key, h.outcome, h.step_id, c.name AS contact_name, h.reason
         FROM enrollments e JOIN enrollment_history h ON h.enrollment_id = e.id LEFT JOIN contacts c ON c.id = e.contact_id
        WHERE e.account_id = $1 AND h.at >= $2 AND (e.ended_at IS NULL OR e.ended_at >= $2)
        ORDER BY h.at DESC, h.id DESC LIMIT $3`,
      [accountId, since, limit],
    );
    return rows.map((r) => ({ at: r.at, event: { journey_key: r.journey_key, event: r.outcome, step_id: r.step_id, contact_name: r.contact_name, detail: r.reason } }));
  }
}
