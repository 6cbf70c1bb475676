import type { Problem } from '../common/errors';

/** The message log's search, parsed from the query string (pure; bad values become problems). */
export const STATUSES = ['queued', 'sending', 'sent', 'failed', 'suppressed', 'capped', 'deferred', 'holdout', 'review'] as const;

export interface MessageFilter {
  /** Recipient email (exact, case-insensitive) or part of it. */
  recipient?: string;
  /** Account external id. */
  account?: string;
  journey?: string;
  template?: string;
  status?: (typeof STATUSES)[number];
  /** Inclusive UTC days. */
  from?: string;
  to?: string;
}

export interface MessageCursor {
  at: string;
  id: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function one(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.trim() !== '' ? s.trim().slice(0, 200) : undefined;
}

function validDay(s: string): boolean {
  return DAY.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);
}

export function parseMessageFilter(q: Record<string, unknown>): { filter: MessageFilter; cursor: MessageCursor | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const filter: MessageFilter = {};
  for (const k of ['recipient', 'account', 'journey', 'template'] as const) {
    const v = one(q, k);
    if (v) filter[k] = v;
  }
  const status = one(q, 'status');
  if (status) {
    if ((STATUSES as readonly string[]).includes(status)) filter.status = status as MessageFilter['status'];
    else problems.push({ path: 'status', message: `expected one of ${STATUSES.join(', ')} (got "${status}")` });
  }
  for (const k of ['from', 'to'] as const) {
    const v = one(q, k);
    if (!v) continue;
    if (validDay(v)) filter[k] = v;
    else problems.push({ path: k, message: `expected a date as YYYY-MM-DD (got "${v}")` });
  }
  if (filter.from && filter.to && filter.from > filter.to) {
    problems.push({ path: 'to', message: `must not be before from (${filter.from})` });
    delete filter.to;
  }
  let cursor: MessageCursor | null = null;
  const after = one(q, 'after');
  if (after) {
    const m = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)_(\d{1,19})$/.exec(after);
    if (m && !Number.isNaN(Date.parse(m[1]))) cursor = { at: m[1], id: m[2] };
    else problems.push({ path: 'after', message: 'the page position is not valid; showing the first page' });
  }
  return { filter, cursor, problems };
}
