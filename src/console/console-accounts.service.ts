import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { NotFound } from '../common/errors';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { AccountDetailRepository, AccountHeader, ContactEngagement, SnapshotRow } from './account-detail.repository';
import { AccountFilter, Cursor, encodeCursor, parseAccountFilter } from './accounts-filter';
import { AccountsListRepository } from './accounts-list.repository';
import { Mover, ScorePoint, scoreMovers } from './charts';
import { buildTimeline, TimelineItem } from './timeline';
import { csvLine } from './csv';
import type { AccountsPageData } from './views/accounts.view';
import { JourneyTimelineSource } from './journey-timeline.source';

export interface AccountPageData {
  account: AccountHeader;
  points: ScorePoint[];
  movers: Mover[];
  moversFrom: string | null;
  timeline: TimelineItem[];
  truncated: boolean;
  contacts: ContactEngagement[];
  days: number;
}

const DAY_MS = 86_400_000;
/** Counting stops here so the count never costs more than the page ("10,000+"). */
const COUNT_CAP = 10_000;
/** The unengaged filter checks each candidate exactly: count fewer of them. */
const UNENGAGED_COUNT_CAP = 1_000;
const TIMELINE_LIMIT = 400;
const CSV_BATCH = 2000;

@Injectable()
export class ConsoleAccountsService {
  constructor(
    private readonly list: AccountsListRepository,
    private readonly detail: AccountDetailRepository,
    private readonly journeys: JourneyTimelineSource,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async accounts(query: Record<string, unknown>): Promise<AccountsPageData> {
    const { filter, cursor, problems } = parseAccountFilter(query);
    const now = this.clock.now();
    const size = this.config.console.pageSize;
    const plan = await this.list.unengagedPlan(filter, now);
    const [rows, count, owners] = await Promise.all([
      this.list.page(filter, cursor, size + 1, now, plan),
      this.list.count(filter, now, filter.unengagedDays ? UNENGAGED_COUNT_CAP : COUNT_CAP, plan),
      this.list.owners(),
    ]);
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    const next = rows.length > size && last ? encodeCursor({ key: last.sort_key, id: last.id }) : null;
    return { filter, rows: page, next, isFirst: !cursor, count, owners, problems };
  }

  /** Streams the whole filtered list as CSV in keyset batches (constant memory at any size). */
  async exportCsv(query: Record<string, unknown>, write: (chunk: string) => Promise<void>): Promise<number> {
    const { filter } = parseAccountFilter(query);
    return this.streamCsv(filter, write);
  }

  private async streamCsv(filter: AccountFilter, write: (chunk: string) => Promise<void>): Promise<number> {
    const now = this.clock.now();
    const plan = await this.list.unengagedPlan(filter, now);
    await write(
      '\uFEFF' +
        csvLine(['external_id', 'name', 'phase', 'plan', 'mrr', 'csm_owner', 'high_touch', 'health_score', 'health_band', 'previous_score', 'last_usage', 'last_engagement', 'open_handoffs', 'renewal_date']),
    );
    let cursor: Cursor | null = null;
    let total = 0;
    for (;;) {
      const rows = await this.list.page(filter, cursor, CSV_BATCH, now, plan);
      if (!rows.length) break;
      await write(
        rows
          .map((r) =>
            csvLine([r.external_id, r.name, r.phase, r.plan, r.mrr, r.csm_owner, r.high_touch, r.score, r.band, r.previous_score, r.last_usage, r.last_engagement, r.open_handoffs, r.renewal_date]),
          )
          .join(''),
      );
      total += rows.length;
      if (rows.length < CSV_BATCH) break;
      const last = rows[rows.length - 1];
      cursor = { key: last.sort_key, id: last.id };
    }
    return total;
  }

  async account(externalId: string, daysParam: unknown): Promise<AccountPageData> {
    const days = [7, 14, 30, 60, 90, 180].includes(Number(daysParam)) ? Number(daysParam) : 30;
    const account = await this.detail.header(externalId);
    if (!account) throw new NotFound(`no account with id "${externalId}"`);
    const now = this.clock.now();
    const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (days - 1) * DAY_MS);
    const sinceDay = since.toISOString().slice(0, 10);
    const [snapshots, usage, messages, engagement, surveys, handoffs, contacts, journeyEvents] = await Promise.all([
      this.detail.snapshots(account.id, new Date(since.getTime() - 60 * DAY_MS).toISOString().slice(0, 10)),
      this.detail.usageByDay(account.id, sinceDay),
      this.detail.messages(account.id, since, TIMELINE_LIMIT),
      this.detail.engagement(account.id, since, TIMELINE_LIMIT),
      this.detail.surveys(account.id, since, TIMELINE_LIMIT),
      this.detail.handoffs(account.id, 100),
      this.detail.contacts(account.id, 200),
      this.journeys.events(account.id, since, TIMELINE_LIMIT),
    ]);
    const { items, truncated } = buildTimeline({ usage, messages, engagement, surveys, handoffs: handoffs.filter((h) => new Date(h.at) >= since || h.status !== 'closed'), journeys: journeyEvents }, TIMELINE_LIMIT);
    const { points, movers, moversFrom } = healthHistory(account, snapshots);
    return { account, points, movers, moversFrom, timeline: items, truncated, contacts, days };
  }
}

/**
 * The chart's points (snapshots, or the current score alone before any history exists) and
 * what moved the score: component contributions now vs the start of the history shown.
 */
export function healthHistory(account: AccountHeader, snapshots: SnapshotRow[]): { points: ScorePoint[]; movers: Mover[]; moversFrom: string | null } {
  const points: ScorePoint[] = snapshots.map((s) => ({ day: s.day, score: Number(s.score), band: s.band }));
  if (!points.length && account.score !== null && account.computed_at) {
    points.push({ day: new Date(account.computed_at).toISOString().slice(0, 10), score: Number(account.score), band: account.band ?? 'none' });
  }
  const first = snapshots[0];
  const current = account.components ?? snapshots[snapshots.length - 1]?.components ?? null;
  const movers = first && snapshots.length > 1 ? scoreMovers(first.components, current).filter((m) => m.change !== 0 || m.after !== null) : [];
  return { points, movers, moversFrom: first && snapshots.length > 1 ? first.day : null };
}
