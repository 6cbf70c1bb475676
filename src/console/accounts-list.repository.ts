import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { SqlParams } from '../signals/sql-params';
import type { AccountFields } from './row-fields';
import { AccountFilter, Cursor, Sort, UNASSIGNED } from './accounts-filter';

export interface AccountListRow extends AccountFields {
  score: string | null;
  band: string | null;
  previous_score: string | null;
  last_usage: string | null;
  last_engagement: Date | null;
  open_handoffs: number;
  sort_key: string | number | null;
}

interface SortSpec {
  expr: string;
  /** Health sorts list scored accounts only, in the health index's order. */
  healthJoin: 'JOIN' | 'LEFT JOIN';
  cast: string;
  desc: boolean;
  /** How the key is selected so it round-trips through the cursor. */
  select: string;
}

const SORT_SPECS: Record<Sort, SortSpec> = {
  name: { expr: 'a.name', healthJoin: 'LEFT JOIN', cast: 'text', desc: false, select: 'a.name' },
  score_asc: { expr: 'h.score', healthJoin: 'JOIN', cast: 'numeric', desc: false, select: 'h.score::text' },
  score_desc: { expr: 'h.score', healthJoin: 'JOIN', cast: 'numeric', desc: true, select: 'h.score::text' },
  renewal: { expr: "coalesce(a.renewal_date, DATE '9999-12-31')", healthJoin: 'LEFT JOIN', cast: 'date', desc: false, select: "to_char(coalesce(a.renewal_date, DATE '9999-12-31'), 'YYYY-MM-DD')" },
  mrr: { expr: 'coalesce(a.mrr, -1)', healthJoin: 'LEFT JOIN', cast: 'numeric', desc: true, select: 'coalesce(a.mrr, -1)::text' },
};

/**
 * How the "unengaged" filter finds its candidates. Both are exact (each candidate is then
 * checked against the raw tables); they differ in speed:
 * - sparse (few candidates): an index range of the activity summary plus accounts created
 *   since its snapshot — never walks every account;
 * - dense (many): walk the accounts in page order with the summary left-joined (a missing
 *   row is a candidate) — stops as soon as the page is full.
 */
export type UnengagedPlan = 'sparse' | 'dense';
const SPARSE_BELOW = 20_000;

/** The activity summary, joined for the dense plan only (alias s). */
function activityJoin(filter: AccountFilter, plan: UnengagedPlan): string {
  return filter.unengagedDays && plan === 'dense' ? 'LEFT JOIN console_account_activity s ON s.account_id = a.id' : '';
}

function sinceOf(now: Date, days: number): Date {
  // "The last N days" includes today, as usage signals count days.
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (days - 1) * 86_400_000);
}

/**
 * The accounts list over any number of accounts: filters on indexed columns, keyset paging
 * on (sort key, id), and the per-row facts (last usage, last engagement, open hand-offs)
 * computed only for the rows of the page.
 */
@Injectable()
export class AccountsListRepository {
  constructor(private readonly db: Db) {}

  /** Chooses the plan from the summary's own count of candidates (an index-only count). */
  async unengagedPlan(filter: AccountFilter, now: Date): Promise<UnengagedPlan> {
    if (!filter.unengagedDays) return 'dense';
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM console_account_activity
         WHERE last_activity_at < $1 OR last_activity_at IS NULL LIMIT ${SPARSE_BELOW}) x`,
      [sinceOf(now, filter.unengagedDays)],
    );
    return row.n < SPARSE_BELOW ? 'sparse' : 'dense';
  }

  private where(filter: AccountFilter, now: Date, p: SqlParams, plan: UnengagedPlan): string[] {
    const where: string[] = [];
    if (filter.phase) where.push(`a.phase = ${p.add(filter.phase)}`);
    if (filter.band === 'none') where.push('h.account_id IS NULL');
    else if (filter.band) where.push(`h.band = ${p.add(filter.band)}`);
    if (filter.owner === UNASSIGNED) where.push('a.csm_owner IS NULL');
    else if (filter.owner) where.push(`a.csm_owner = ${p.add(filter.owner)}`);
    if (filter.highTouch !== undefined) where.push(`a.high_touch = ${p.add(filter.highTouch)}`);
    if (filter.q) {
      // Part of the name (trigram index) or the exact account id.
      const like = p.add(`%${filter.q.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
      where.push(`(a.name ILIKE ${like} OR a.external_id = ${p.add(filter.q)})`);
    }
    if (filter.unengagedDays) {
      const since = sinceOf(now, filter.unengagedDays);
      const sinceDay = p.add(since.toISOString().slice(0, 10), 'date');
      const sinceAt = p.add(since.toISOString(), 'timestamptz');
      // Candidates: inactive since the cutoff as of the activity summary's last refresh,
      // never active, or not summarised yet. Each candidate is then checked exactly, so a
      // stale summary cannot change the answer: usage and engagement only ever grow.
      if (plan === 'dense') where.push(`(s.account_id IS NULL OR s.last_activity_at IS NULL OR s.last_activity_at < ${sinceAt})`);
      else
        where.push(`a.id IN (SELECT s.account_id FROM console_account_activity s WHERE s.last_activity_at < ${sinceAt} OR s.last_activity_at IS NULL
                   UNION ALL
                   -- created since the summary's snapshot (with a margin for transactions in flight then)
                   SELECT n.id FROM accounts n WHERE n.created_at >= coalesce(
                     (SELECT started_at - interval '10 minutes' FROM console_refreshes WHERE name = 'console_account_activity'), '-infinity'))`);
      where.push(`NOT EXISTS (SELECT 1 FROM event_rollups r WHERE r.account_id = a.id AND r.day >= ${sinceDay})`);
      where.push(`NOT EXISTS (SELECT 1 FROM engagement_events e WHERE e.account_id = a.id AND e.occurred_at >= ${sinceAt}
                   AND e.kind IN ('open','click','survey') AND NOT e.machine)`);
    }
    return where;
  }

  async page(filter: AccountFilter, cursor: Cursor | null, limit: number, now: Date, plan: UnengagedPlan = 'dense'): Promise<AccountListRow[]> {
    const p = new SqlParams();
    const spec = SORT_SPECS[filter.sort];
    const where = this.where(filter, now, p, plan);
    if (cursor) {
      where.push(`(${spec.expr}, a.id) ${spec.desc ? '<' : '>'} (${p.add(cursor.key, spec.cast)}, ${p.add(cursor.id, 'bigint')})`);
    }
    const dir = spec.desc ? 'DESC' : 'ASC';
    const lim = p.add(limit, 'int');
    // The page's ids are chosen first; the per-row facts are computed for those rows only.
    return this.db.query<AccountListRow>(
      `WITH page AS MATERIALIZED (
         SELECT a.id, ${spec.select} AS sort_key, row_number() OVER (ORDER BY ${spec.expr} ${dir}, a.id ${dir}) AS n
           FROM accounts a ${spec.healthJoin} account_health h ON h.account_id = a.id ${activityJoin(filter, plan)}
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY ${spec.expr} ${dir}, a.id ${dir} LIMIT ${lim}
       )
       SELECT a.id, a.external_id, a.name, a.phase, a.plan, a.mrr, to_char(a.renewal_date, 'YYYY-MM-DD') AS renewal_date,
              a.csm_owner, a.high_touch, h.score, h.band, h.previous_score, page.sort_key,
              (SELECT to_char(max(r.day), 'YYYY-MM-DD') FROM event_rollups r WHERE r.account_id = a.id) AS last_usage,
              (SELECT max(e.occurred_at) FROM engagement_events e WHERE e.account_id = a.id AND e.kind IN ('open','click','survey') AND NOT e.machine) AS last_engagement,
              (SELECT count(*)::int FROM handoffs x WHERE x.account_id = a.id AND x.status <> 'closed') AS open_handoffs
         FROM page JOIN accounts a ON a.id = page.id LEFT JOIN account_health h ON h.account_id = a.id
        ORDER BY page.n`,
      p.values,
    );
  }

  /** How many accounts match; capped so that a count never costs more than the page. */
  async count(filter: AccountFilter, now: Date, cap: number, plan: UnengagedPlan = 'dense'): Promise<{ count: number; capped: boolean }> {
    const p = new SqlParams();
    const where = this.where(filter, now, p, plan);
    const lim = p.add(cap + 1, 'int');
    const join = SORT_SPECS[filter.sort].healthJoin;
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM accounts a ${join} account_health h ON h.account_id = a.id ${activityJoin(filter, plan)}
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} LIMIT ${lim}) x`,
      p.values,
    );
    return { count: Math.min(row.n, cap), capped: row.n > cap };
  }

  /** CSM owners for the filter's select box. */
  async owners(): Promise<string[]> {
    const rows = await this.db.query<{ csm_owner: string }>(
      `WITH RECURSIVE o AS (
         (SELECT csm_owner FROM accounts WHERE csm_owner IS NOT NULL ORDER BY csm_owner LIMIT 1)
         UNION ALL
         SELECT (SELECT csm_owner FROM accounts WHERE csm_owner > o.csm_owner ORDER BY csm_owner LIMIT 1) FROM o WHERE o.csm_owner IS NOT NULL
       ) SELECT csm_owner FROM o WHERE csm_owner IS NOT NULL LIMIT 500`,
    );
    return rows.map((r) => r.csm_owner);
  }
}
