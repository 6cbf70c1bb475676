import { Injectable } from '@nestjs/common';
import { NotFound } from '../common/errors';
import { JourneysReportRepository } from './journeys-report.repository';
import type { JourneyReport } from './views/journeys.view';

/**
 * Journey reports. The outbox and engagement parts are live now; entries, step counts,
 * goals and the treated-vs-holdout comparison need the engine's enrollment tables and the
 * journey definitions, which are wired here when they land (until then the page says so).
 */
@Injectable()
export class ConsoleJourneysService {
  constructor(private readonly report: JourneysReportRepository) {}

  list() {
    return this.report.journeys();
  }

  async journey(key: string): Promise<JourneyReport> {
    const [funnel, templates, heldBack] = await Promise.all([this.report.funnel(key), this.report.perTemplate(key), this.report.heldBack(key)]);
    if (!funnel.sent && !templates.length && !heldBack.length) throw new NotFound(`no journey "${key}" has messages`);
    return { key, steps: null, stepCounts: {}, entered: null, goal: null, funnel, effect: null, arms: [], templates, heldBack };
  }
}
