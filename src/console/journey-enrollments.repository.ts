import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import type { DiagramStep } from './journey-diagram';

export interface GroupCounts {
  entered: number;
  converted: number;
}

export interface EnrollmentReport {
  steps: DiagramStep[] | null;
  version: number | null;
  /** Active enrollments waiting at each step. */
  stepCounts: Record<string, number>;
  treated: GroupCounts;
  holdout: GroupCounts;
  /** Per split step and arm, treated and held-out (held-out enrollments walk the steps too). */
  arms: { step: string; arm: string; treated: GroupCounts; holdout: GroupCounts }[];
}

/**
 * Entries, live step counts, goals and arms of a journey from the engine's enrollments and
 * the current journey version's definition. Null until the engine's tables exist.
 */
@Injectable()
export class JourneyEnrollmentsRepository {
  private available: boolean | undefined;

  constructor(private readonly db: Db) {}

  async ready(): Promise<boolean> {
    if (this.available === undefined) {
      const [r] = await this.db.query<{ ok: boolean }>(`SELECT to_regclass('public.enrollments') IS NOT NULL AND to_regclass('public.journey_versions') IS NOT NULL AS ok`);
      this.available = r.ok;
    }
    return this.available;
  }

  async keys(): Promise<string[]> {
    if (!(await this.ready())) return [];
    return (await this.db.query<{ key: string }>(`SELECT key FROM journeys WHERE status <> 'archived' ORDER BY key`)).map((r) => r.key);
  }

  async report(journeyKey: string): Promise<EnrollmentReport | null> {
    if (!(await this.ready())) return null;
    const [def] = await this.db.query<{ definition: { steps?: DiagramStep[] }; version: number }>(
      `SELECT v.definition, v.version FROM journeys j JOIN journey_versions v ON v.id = j.current_version_id WHERE j.key = $1`,
      [journeyKey],
    );
    const [groups, steps, arms] = await Promise.all([
      this.db.query<{ holdout: boolean; entered: number; converted: number }>(
        `SELECT holdout, count(*)::int AS entered, count(*) FILTER (WHERE status = 'converted')::int AS converted
           FROM enrollments WHERE journey_key = $1 GROUP BY holdout`,
        [journeyKey],
      ),
      this.db.query<{ step_id: string; n: number }>(`SELECT step_id, count(*)::int AS n FROM enrollments WHERE journey_key = $1 AND status = 'active' GROUP BY step_id`, [journeyKey]),
      this.db.query<{ step: string; arm: string; holdout: boolean; entered: number; converted: number }>(
        `SELECT a.key AS step, a.value AS arm, e.holdout, count(*)::int AS entered, count(*) FILTER (WHERE e.status = 'converted')::int AS converted
           FROM enrollments e CROSS JOIN LATERAL jsonb_each_text(e.arms) a WHERE e.journey_key = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2`,
        [journeyKey],
      ),
    ]);
    const pick = (rows: { holdout: boolean; entered: number; converted: number }[], h: boolean): GroupCounts => {
      const r = rows.find((x) => x.holdout === h);
      return { entered: r?.entered ?? 0, converted: r?.converted ?? 0 };
    };
    const armKeys = [...new Set(arms.map((a) => `${a.step}\u0000${a.arm}`))];
    return {
      steps: def?.definition?.steps ?? null,
      version: def?.version ?? null,
      stepCounts: Object.fromEntries(steps.map((s) => [s.step_id, s.n])),
      treated: pick(groups, false),
      holdout: pick(groups, true),
      arms: armKeys.map((k) => {
        const [step, arm] = k.split('\u0000');
        const rows = arms.filter((a) => a.step === step && a.arm === arm);
        return { step, arm, treated: pick(rows, false), holdout: pick(rows, true) };
      }),
    };
  }
}
