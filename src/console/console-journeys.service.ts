import { Injectable } from '@nestjs/common';
import { NotFound } from '../common/errors';
import { JourneysService } from '../journeys/journeys.service';
import type { DiagramStep } from './journey-diagram';
import { ConsoleSummariesRepository } from './console-summaries.repository';
import { JourneyEnrollmentsRepository } from './journey-enrollments.repository';
import { JourneysReportRepository, JourneySummaryRow } from './journeys-report.repository';
import { compareConversion } from './stats';
import type { JourneyReport } from './views/journeys.view';

/**
 * Journey reports: outbox and engagement figures, plus entries, live step counts, goals and
 * treated-vs-holdout conversion (overall and per split arm) from the engine's enrollments.
 */
@Injectable()
export class ConsoleJourneysService {
  constructor(
    private readonly report: JourneysReportRepository,
    private readonly enrollments: JourneyEnrollmentsRepository,
    private readonly summaries: ConsoleSummariesRepository,
    private readonly files: JourneysService,
  ) {}

  /** Journey definitions from the journey files (the engine's stored versions win when present). */
  private async definitions(): Promise<Map<string, DiagramStep[]>> {
    const { journeys } = await this.files.validate();
    return new Map(journeys.map((j) => [j.key, j.steps as unknown as DiagramStep[]]));
  }

  /** When the message figures were last summarised (they lag by at most CONSOLE_REFRESH_SECONDS). */
  asOf(): Promise<Date | null> {
    return this.summaries.refreshedAt('console_message_stats');
  }

  async list(): Promise<JourneySummaryRow[]> {
    const [rows, keys] = await Promise.all([this.report.journeys(), this.enrollments.keys()]);
    // Journey files are read (and validated) only when the engine has stored no versions yet.
    const defs = keys.length ? new Map<string, DiagramStep[]>() : await this.definitions();
    const known = new Set(rows.map((r) => r.journey_key));
    // Journeys that have not sent anything yet are listed too.
    const idle = [...new Set([...keys, ...defs.keys()])].filter((k) => !known.has(k)).map((k) => ({ journey_key: k, messages: 0, sent: 0, held_back: 0, last_day: null }));
    return [...rows, ...idle].sort((a, b) => a.journey_key.localeCompare(b.journey_key));
  }

  async journey(key: string): Promise<JourneyReport> {
    const [funnel, templates, heldBack, e, asOf] = await Promise.all([
      this.report.funnel(key),
      this.report.perTemplate(key),
      this.report.heldBack(key),
      this.enrollments.report(key),
      this.asOf(),
    ]);
    const steps = e?.steps ?? (await this.definitions()).get(key) ?? null;
    const hasEnrollments = !!e && (e.treated.entered > 0 || e.holdout.entered > 0);
    if (!funnel.sent && !templates.length && !heldBack.length && !hasEnrollments && !steps) throw new NotFound(`no journey "${key}"`);
    const conv = (g: { treated: { entered: number; converted: number }; holdout: { entered: number; converted: number } }) =>
      compareConversion({ successes: g.treated.converted, total: g.treated.entered }, { successes: g.holdout.converted, total: g.holdout.entered });
    return {
      key,
      asOf,
      steps,
      stepCounts: e?.stepCounts ?? {},
      entered: e ? e.treated.entered + e.holdout.entered : null,
      goal: e ? e.treated.converted + e.holdout.converted : null,
      funnel,
      effect: e ? conv(e) : null,
      arms: e ? e.arms.map((a) => ({ arm: `${a.step}: ${a.arm}`, comparison: conv(a) })) : [],
      templates,
      heldBack,
    };
  }
}
