import type { Problem } from '../common/errors';

/**
 * The accounts list's filters and sort, parsed from the query string. Pure: unknown or
 * malformed values become problems (shown above the list) and are ignored, never a 500.
 */
export const PHASES = ['onboarding', 'adoption', 'established', 'renewal', 'churned'] as const;
export const BANDS = ['green', 'yellow', 'red', 'none'] as const;
export const SORTS = ['name', 'score_asc', 'score_desc', 'renewal', 'mrr'] as const;
export type Sort = (typeof SORTS)[number];

export interface AccountFilter {
  phase?: (typeof PHASES)[number];
  band?: (typeof BANDS)[number];
  /** A CSM's name, or '-' for accounts without one. */
  owner?: string;
  /** No usage and no human engagement in the last N days (today included). */
  unengagedDays?: number;
  highTouch?: boolean;
  q?: string;
  sort: Sort;
}

/** Keyset position: the sort key and id of the last row of the previous page. */
export interface Cursor {
  key: string | number | null;
  id: string;
}

export const UNASSIGNED = '-';

type Query = Record<string, unknown>;

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : undefined;
}

export function parseAccountFilter(q: Query): { filter: AccountFilter; cursor: Cursor | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const filter: AccountFilter = { sort: 'name' };
  const phase = one(q, 'phase');
  if (phase) {
    if ((PHASES as readonly string[]).includes(phase)) filter.phase = phase as AccountFilter['phase'];
    else problems.push({ path: 'phase', message: `expected one of ${PHASES.join(', ')} (got "${phase}")` });
  }
  const band = one(q, 'band');
  if (band) {
    if ((BANDS as readonly string[]).includes(band)) filter.band = band as AccountFilter['band'];
    else problems.push({ path: 'band', message: `expected one of ${BANDS.join(', ')} (got "${band}")` });
  }
  const owner = one(q, 'owner');
  if (owner) filter.owner = owner.slice(0, 200);
  const unengaged = one(q, 'unengaged');
  if (unengaged) {
    const n = Number(unengaged);
    if (Number.isInteger(n) && n >= 1 && n <= 3650) filter.unengagedDays = n;
    else problems.push({ path: 'unengaged', message: `expected a whole number of days from 1 to 3650 (got "${unengaged}")` });
  }
  const ht = one(q, 'high_touch');
  if (ht) {
    if (ht === 'yes' || ht === 'no') filter.highTouch = ht === 'yes';
    else problems.push({ path: 'high_touch', message: `expected yes or no (got "${ht}")` });
  }
  const search = one(q, 'q');
  if (search) filter.q = search.slice(0, 200);
  const sort = one(q, 'sort');
  if (sort) {
    if ((SORTS as readonly string[]).includes(sort)) filter.sort = sort as Sort;
    else problems.push({ path: 'sort', message: `expected one of ${SORTS.join(', ')} (got "${sort}")` });
  }
  let cursor: Cursor | null = null;
  const after = one(q, 'after');
  if (after) {
    cursor = decodeCursor(after);
    if (!cursor) problems.push({ path: 'after', message: 'the page position is not valid; showing the first page' });
  }
  return { filter, cursor, problems };
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.key, c.id])).toString('base64url');
}

export function decodeCursor(s: string): Cursor | null {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 2) return null;
    const [key, id] = v as [unknown, unknown];
    if (typeof id !== 'string' || !/^\d{1,19}$/.test(id)) return null;
    if (key !== null && typeof key !== 'string' && typeof key !== 'number') return null;
    return { key: key as Cursor['key'], id };
  } catch {
    return null;
  }
}

/** The filter as query parameters (for links that keep it: paging, sorting, CSV). */
export function filterParams(f: AccountFilter): Record<string, string | undefined> {
  return {
    phase: f.phase,
    band: f.band,
    owner: f.owner,
    unengaged: f.unengagedDays?.toString(),
    high_touch: f.highTouch === undefined ? undefined : f.highTouch ? 'yes' : 'no',
    q: f.q,
    sort: f.sort === 'name' ? undefined : f.sort,
  };
}
