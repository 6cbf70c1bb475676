/**
 * Pure mapping of CSV rows to Segment messages, so an import goes through exactly the
 * validation and write path of the ingestion API. Columns are matched case-insensitively;
 * `trait.x` columns (and any unknown column) become traits.
 */
export type ImportKind = 'accounts' | 'contacts';

const ACCOUNT_COLUMNS: Record<string, string> = {
  external_id: 'id', id: 'id', account_id: 'id',
  name: 'name', plan: 'plan', mrr: 'mrr', size_segment: 'sizeSegment', segment: 'sizeSegment', region: 'region',
  phase: 'phase', lifecycle_phase: 'phase', contract_start: 'contractStart', renewal_date: 'renewalDate',
  csm_owner: 'csmOwner', csm: 'csmOwner', high_touch: 'highTouch', seats: 'seats', timezone: 'timezone', locale: 'locale',
};

const CONTACT_COLUMNS: Record<string, string> = {
  external_id: 'id', id: 'id', user_id: 'id',
  account_external_id: 'account', account: 'account', account_id: 'account', group_id: 'account',
  email: 'email', name: 'name', first_name: 'firstName', last_name: 'lastName', role: 'role', title: 'role',
  locale: 'locale', timezone: 'timezone', consent: 'consent', consent_source: 'consentSource', consent_at: 'consentAt',
};

export interface HeaderCheck {
  /** Column index → mapped field (or `trait:name`). */
  fields: string[];
  problems: string[];
  unknown: string[];
}

export function checkHeader(kind: ImportKind, header: string[]): HeaderCheck {
  const known = kind === 'accounts' ? ACCOUNT_COLUMNS : CONTACT_COLUMNS;
  const fields: string[] = [];
  const unknown: string[] = [];
  for (const raw of header) {
    const col = raw.trim().toLowerCase().replace(/[\s-]+/g, '_');
    if (col.startsWith('trait.') || col.startsWith('traits.')) fields.push(`trait:${raw.trim().replace(/^traits?\./i, '')}`);
    else if (known[col]) fields.push(known[col]);
    else {
      unknown.push(raw.trim());
      fields.push(`trait:${raw.trim()}`);
    }
  }
  const problems: string[] = [];
  if (!fields.includes('id')) problems.push(`the header needs an external_id column (found: ${header.join(', ') || 'nothing'})`);
  const dup = fields.filter((f, i) => !f.startsWith('trait:') && fields.indexOf(f) !== i);
  if (dup.length) problems.push(`columns map to the same field twice: ${[...new Set(dup)].join(', ')}`);
  return { fields, problems, unknown };
}

const BOOL: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false, y: true, n: false };

/** One CSV row → the Segment messages that create or update it. */
export function rowToMessages(kind: ImportKind, fields: string[], values: string[]): unknown[] {
  const traits: Record<string, unknown> = {};
  const own: Record<string, string> = {};
  fields.forEach((f, i) => {
    const v = (values[i] ?? '').trim();
    if (v === '') return;
    if (f.startsWith('trait:')) traits[f.slice(6)] = v;
    else own[f] = v;
  });
  const bool = (v: string | undefined) => (v === undefined ? undefined : (BOOL[v.toLowerCase()] ?? v));
  if (kind === 'accounts') {
    const t: Record<string, unknown> = { ...traits };
    for (const [k, v] of Object.entries(own)) if (k !== 'id') t[k] = v;
    if (own.highTouch !== undefined) t.highTouch = bool(own.highTouch);
    return [{ type: 'group', anonymousId: 'csv-import', groupId: own.id ?? '', traits: t }];
  }
  const t: Record<string, unknown> = { ...traits };
  for (const k of ['email', 'name', 'firstName', 'lastName', 'role', 'locale', 'timezone']) if (own[k] !== undefined) t[k] = own[k];
  if (own.consent !== undefined) {
    t.consent = { marketing: bool(own.consent), ...(own.consentSource ? { source: own.consentSource } : {}), ...(own.consentAt ? { at: own.consentAt } : {}) };
  }
  const messages: unknown[] = [{ type: 'identify', userId: own.id ?? '', traits: t }];
  if (own.account) messages.push({ type: 'group', userId: own.id ?? '', groupId: own.account, traits: {} });
  return messages;
}
