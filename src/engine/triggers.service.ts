import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { Journey } from '../journeys/journey';
import { nextScheduleTime } from '../journeys/local-time';
import { eventCursorName, JourneyVersionsRepository } from './journey-versions.repository';
import { JourneyVersionsService } from './journey-versions.service';
import { conditionTriggerStatement, dateTriggerStatement, eventTriggerStatement, scheduleTriggerStatement, Statement, wakeStatement } from './trigger-sql';
import type { Tx } from '../database/db';
import { EntryCounts, TriggersRepository } from './triggers.repository';

export interface TriggerRun {
  journey: string;
  trigger: string;
  enrolled: number;
  candidates?: number;
  error?: string;
  ms?: number;
}

const WAKE_CURSOR = 'wake';
/** A shared trigger is skipped when any process ran it less than this share of the interval ago. */
const SHARED_GAP = 0.9;

/**
 * Enrolls subjects: condition, date and schedule triggers on a schedule, event triggers as
 * events are ingested (nudged by IngestionNotifier, always reading the events table). Each
 * journey runs in its own statement/transaction: one failing journey never blocks the others.
 */
@Injectable()
export class TriggersService {
  private readonly log = new Logger('Triggers');

  constructor(
    private readonly repo: TriggersRepository,
    private readonly journeys: JourneyVersionsRepository,
    private readonly versions: JourneyVersionsService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private async active(): Promise<{ journey: Journey; versionId: string; nextFireAt: Date | null }[]> {
    const rows = await this.journeys.activeCurrent();
    const versions = await this.versions.versions(rows.map((r) => r.versionId));
    return rows.filter((r) => versions.has(r.versionId)).map((r) => ({ journey: versions.get(r.versionId)!.journey, versionId: r.versionId, nextFireAt: r.nextFireAt }));
  }

  private async guarded(journey: Journey, trigger: string, work: () => Promise<Omit<TriggerRun, 'journey' | 'trigger'> | undefined>): Promise<TriggerRun | undefined> {
    const started = performance.now();
    try {
      const r = await work();
      return r && { journey: journey.key, trigger, ...r, ms: Math.round(performance.now() - started) };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.log.error(`journey ${journey.key}: ${trigger} trigger failed: ${error}`);
      return { journey: journey.key, trigger, enrolled: 0, error };
    }
  }

  /**
   * Runs a trigger statement. Scheduled passes (`shared`) are shared by all worker processes:
   * each journey's trigger runs about once per interval in all (see oncePerInterval); a direct
   * call (CLI, tests) always runs.
   */
  private run(journey: Journey, kind: 'condition' | 'date', now: Date, shared: boolean, stmt: Statement): Promise<EntryCounts | undefined> {
    // A statement built `exclusive` (plain inserts) runs under the journey's entry lock, shared or not.
    const enter = (tx?: Tx) => (stmt.exclusive ? this.repo.enterExclusive(journey.key, stmt, tx) : this.repo.enter(stmt, tx));
    if (!shared) return enter();
    const gap = this.config.engine.triggerIntervalMs * SHARED_GAP;
    return this.repo.oncePerInterval(`${kind}:${journey.key}`, now, gap, (tx) => enter(tx));
  }

  /** Condition triggers: one set-based statement per journey. */
  async evaluateConditions(shared = false): Promise<TriggerRun[]> {
    const now = this.clock.now();
    const out: TriggerRun[] = [];
    for (const { journey, versionId } of await this.active()) {
      if (journey.trigger.type !== 'condition') continue;
      const r = await this.guarded(journey, 'condition', () => this.run(journey, 'condition', now, shared, conditionTriggerStatement(journey, versionId, now)));
      if (r) out.push(r);
    }
    return out;
  }

  async fireDates(shared = false): Promise<TriggerRun[]> {
    const now = this.clock.now();
    const out: TriggerRun[] = [];
    for (const { journey, versionId } of await this.active()) {
      if (journey.trigger.type !== 'date') continue;
      const stmt = dateTriggerStatement(journey, versionId, now, this.config.defaults.timezone);
      const r = await this.guarded(journey, 'date', () => this.run(journey, 'date', now, shared, stmt));
      if (r) out.push(r);
    }
    return out;
  }

  /** Schedule triggers whose occurrence is due: the journey row is locked so one process fires it. */
  async fireSchedules(): Promise<TriggerRun[]> {
    const now = this.clock.now();
    const out: TriggerRun[] = [];
    for (const { journey, versionId, nextFireAt } of await this.active()) {
      const t = journey.trigger;
      if (t.type !== 'schedule' || !nextFireAt || nextFireAt.getTime() > now.getTime()) continue;
      const r = await this.guarded(journey, 'schedule', () =>
        this.repo.transaction(async (tx) => {
          const occurrence = await this.repo.lockDueSchedule(tx, journey.key, now);
          if (!occurrence) return undefined;
          const counts = await this.repo.enter(scheduleTriggerStatement(journey, versionId, now, occurrence), tx);
          // Missed occurrences (the engine was down) are not replayed: the next one is after now.
          await this.repo.setNextFire(tx, journey.key, nextScheduleTime(t.schedule, now, this.config.defaults.timezone) ?? null);
          return counts;
        }),
      );
      if (r) out.push(r);
    }
    return out;
  }

  /** Event triggers and wake-ups for the events committed since the last pass. */
  async processEvents(): Promise<TriggerRun[]> {
    const now = this.clock.now();
    const out: TriggerRun[] = [];
    const active = await this.active();
    for (const { journey, versionId } of active) {
      if (journey.trigger.type !== 'event') continue;
      const r = await this.guarded(journey, 'event', async () =>
        this.repo.eventPass(eventCursorName(journey.key), now, (tx, cursor) => this.repo.enter(eventTriggerStatement(journey, versionId, now, cursor), tx)),
      );
      if (r) out.push(r);
    }
    const woken = await this.wake(now);
    if (woken) out.push({ journey: '*', trigger: 'wake', enrolled: 0, candidates: woken });
    return out;
  }

  /** Enrollments waiting for an event (goal or wait-until) that just happened are re-evaluated now. */
  private async wake(now: Date): Promise<number> {
    const versions = await this.versions.versions(await this.journeys.liveVersionIds());
    const pairs = new Map<string, { journeyKey: string; event: string }>();
    for (const v of versions.values()) {
      const events = [...(v.journey.goal?.events ?? []), ...v.journey.steps.flatMap((s) => (s.type === 'wait_until' && s.event ? [s.event] : []))];
      for (const event of events) pairs.set(`${v.journeyKey}\u0000${event}`, { journeyKey: v.journeyKey, event });
    }
    try {
      const r = await this.repo.eventPass(WAKE_CURSOR, now, async (tx, cursor) => {
        if (!pairs.size) return 0;
        const stmt = wakeStatement([...pairs.values()], now, cursor);
        const [row] = await tx.query<{ woken: number }>(stmt.sql, stmt.params);
        return Number(row.woken);
      });
      return r ?? 0;
    } catch (err) {
      this.log.error(`waking enrollments on events failed: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }

  /** Everything scheduled: conditions, dates, schedules (events have their own faster loop). */
  async tick(): Promise<TriggerRun[]> {
    return [...(await this.fireSchedules()), ...(await this.fireDates(true)), ...(await this.evaluateConditions(true))];
  }
}
