import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { DomainError, InvalidInput, NotFound } from '../common/errors';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { HandoffAction, parseHandoffAction, transition } from './handoff-actions';
import { HandoffsInboxRepository } from './handoffs-inbox.repository';
import type { HandoffsPageData } from './views/handoffs.view';

const STATUSES = ['active', 'open', 'acknowledged', 'closed', 'all'] as const;

const one = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : undefined);

@Injectable()
export class ConsoleHandoffsService {
  constructor(
    private readonly repo: HandoffsInboxRepository,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async inbox(query: Record<string, unknown>): Promise<Omit<HandoffsPageData, 'flash' | 'error'>> {
    const status = (STATUSES as readonly string[]).includes(String(query.status)) ? (query.status as (typeof STATUSES)[number]) : 'active';
    const assignee = one(query.assignee);
    const account = one(query.account);
    const m = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)_(\d{1,19})$/.exec(String(query.before ?? ''));
    const size = this.config.console.pageSize;
    const [rows, assignees] = await Promise.all([
      this.repo.list({ status, assignee, account, before: m ? { at: m[1], id: m[2] } : undefined, limit: size + 1 }),
      this.repo.assignees(),
    ]);
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    return { status, assignee, account, rows: page, assignees, next: rows.length > size && last ? `${new Date(last.created_at).toISOString()}_${last.id}` : null };
  }

  /** Applies a CSM's action; a stale one (someone else closed it first) is a conflict, not a silent no-op. */
  async act(id: string, form: Record<string, unknown>, actor: string): Promise<HandoffAction> {
    const { action, problems } = parseHandoffAction(form, actor);
    if (!action) throw new InvalidInput('the hand-off action is not valid', problems);
    const current = await this.repo.status(id);
    if (!current) throw new NotFound(`no hand-off ${id}`);
    const next = transition(current, action);
    if ('error' in next) throw new DomainError('conflict', next.error);
    if (!(await this.repo.apply(id, action, this.clock.now()))) throw new DomainError('conflict', `hand-off ${id} changed meanwhile; reload and try again`);
    return action;
  }
}
