import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { SqlParams } from '../signals/sql-params';
import { ALLOWED_FROM, HandoffAction, HandoffStatus } from './handoff-actions';

export interface HandoffRow {
  id: string;
  account_external_id: string;
  account_name: string;
  csm_owner: string | null;
  contact_name: string | null;
  contact_email: string | null;
  journey_key: string | null;
  step_id: string | null;
  reason: string;
  signals: Record<string, unknown>;
  status: HandoffStatus;
  assignee: string | null;
  outcome: string | null;
  webhook_status: string;
  created_at: Date;
  acknowledged_at: Date | null;
  closed_at: Date | null;
}

export interface HandoffQuery {
  status: HandoffStatus | 'active' | 'all';
  assignee?: string;
  /** Account external id. */
  account?: string;
  before?: { at: string; id: string };
  limit: number;
}

/** The CSM inbox: hand-offs newest first, and the guarded status updates. */
@Injectable()
export class HandoffsInboxRepository {
  constructor(private readonly db: Db) {}

  async list(q: HandoffQuery): Promise<HandoffRow[]> {
    const p = new SqlParams();
    const where: string[] = [];
    if (q.status === 'active') where.push(`h.status IN ('open','acknowledged')`);
    else if (q.status !== 'all') where.push(`h.status = ${p.add(q.status)}`);
    if (q.assignee) where.push(`h.assignee = ${p.add(q.assignee)}`);
    if (q.account) where.push(`h.account_id = (SELECT id FROM accounts WHERE external_id = ${p.add(q.account)})`);
    if (q.before) where.push(`(h.created_at, h.id) < (${p.add(q.before.at, 'timestamptz')}, ${p.add(q.before.id, 'bigint')})`);
    return this.db.query<HandoffRow>(
      `SELECT h.id, a.external_id AS account_external_id, a.name AS account_name, a.csm_owner, c.name AS contact_name, c.email AS contact_email,
              h.journey_key, h.step_id, h.reason, h.signals, h.status, h.assignee, h.outcome, h.webhook_status, h.created_at, h.acknowledged_at, h.closed_at
         FROM (SELECT * FROM handoffs h ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY h.created_at DESC, h.id DESC LIMIT ${p.add(q.limit, 'int')}) h
         JOIN accounts a ON a.id = h.account_id LEFT JOIN contacts c ON c.id = h.contact_id
        ORDER BY h.created_at DESC, h.id DESC`,
      p.values,
    );
  }

  async status(id: string): Promise<HandoffStatus | undefined> {
    if (!/^\d{1,19}$/.test(id)) return undefined;
    const [row] = await this.db.query<{ status: HandoffStatus }>(`SELECT status FROM handoffs WHERE id = $1`, [id]);
    return row?.status;
  }

  /**
   * Applies an action only if the row is still in a status that allows it (two CSMs acting
   * at once cannot close a hand-off twice or reopen it). Returns false when it was not.
   */
  async apply(id: string, action: HandoffAction, now: Date): Promise<boolean> {
    const allowed = ALLOWED_FROM[action.action];
    let set: string;
    const params: unknown[] = [id, allowed, now];
    if (action.action === 'assign') {
      params.push(action.assignee);
      set = `assignee = $4`;
    } else if (action.action === 'acknowledge') {
      params.push(action.assignee);
      set = `status = 'acknowledged', acknowledged_at = $3, assignee = coalesce(assignee, $4)`;
    } else {
      params.push(action.outcome);
      set = `status = 'closed', closed_at = $3, outcome = $4, acknowledged_at = coalesce(acknowledged_at, $3)`;
    }
    // Wrapped in a CTE so the driver returns the rows (a bare UPDATE returns [rows, count]).
    const rows = await this.db.query(`WITH u AS (UPDATE handoffs SET ${set} WHERE id = $1 AND status = ANY($2::text[]) RETURNING id) SELECT id FROM u`, params);
    return rows.length === 1;
  }

  async assignees(): Promise<string[]> {
    const rows = await this.db.query<{ assignee: string }>(
      `SELECT DISTINCT assignee FROM handoffs WHERE assignee IS NOT NULL AND status <> 'closed' ORDER BY assignee LIMIT 200`,
    );
    return rows.map((r) => r.assignee);
  }
}
