/**
 * Pure mapping of Segment traits to Touchline's account and contact columns. Known traits
 * become columns; the rest stay in `traits` (jsonb). Both camelCase and snake_case are read.
 */
import type { Problem } from '../common/errors';

export const PHASES = ['onboarding', 'adoption', 'established', 'renewal', 'churned'] as const;
export type Phase = (typeof PHASES)[number];

export interface ContactFields {
  email?: string;
  name?: string;
  role?: string;
  locale?: string;
  timezone?: string;
  consentMarketing?: boolean;
  consentSource?: string;
  consentAt?: string;
  traits: Record<string, unknown>;
}

export interface AccountFields {
  name?: string;
  plan?: string;
  mrr?: number;
  sizeSegment?: string;
  region?: string;
  phase?: Phase;
  contractStart?: string;
  renewalDate?: string;
  csmOwner?: string | null;
  highTouch?: boolean;
  seats?: number;
  timezone?: string;
  locale?: string;
  traits: Record<string, unknown>;
}

type Traits = Record<string, unknown>;

function take(traits: Traits, used: Set<string>, ...names: string[]): unknown {
  for (const n of names) {
    if (n in traits) {
      used.add(n);
      return traits[n];
    }
  }
  return undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined);

function rest(traits: Traits, used: Set<string>): Traits {
  const out: Traits = {};
  for (const [k, v] of Object.entries(traits)) if (!used.has(k)) out[k] = v;
  return out;
}

export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}/;

export function mapContact(traits: Traits = {}, context: Traits = {}, at = 'traits'): { fields: ContactFields; problems: Problem[] } {
  const used = new Set<string>();
  const problems: Problem[] = [];
  const first = str(take(traits, used, 'firstName', 'first_name'));
  const last = str(take(traits, used, 'lastName', 'last_name'));
  const email = str(take(traits, used, 'email'));
  if (email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problems.push({ path: `${at}.email`, message: `"${email}" is not an email address` });
  const timezone = str(take(traits, used, 'timezone', 'time_zone')) ?? str(context.timezone);
  if (timezone !== undefined && !isValidTimezone(timezone)) problems.push({ path: `${at}.timezone`, message: `unknown IANA time zone "${timezone}"` });
  const consent = take(traits, used, 'consent');
  let consentMarketing: boolean | undefined;
  let consentSource: string | undefined;
  let consentAt: string | undefined;
  if (consent !== undefined) {
    if (typeof consent === 'boolean') consentMarketing = consent;
    else if (consent && typeof consent === 'object') {
      const c = consent as Traits;
      if (typeof c.marketing !== 'boolean') problems.push({ path: `${at}.consent.marketing`, message: 'expected true or false' });
      else consentMarketing = c.marketing;
      consentSource = str(c.source);
      if (c.at !== undefined) {
        if (typeof c.at !== 'string' || !DATE.test(c.at) || Number.isNaN(Date.parse(c.at))) problems.push({ path: `${at}.consent.at`, message: 'expected an ISO 8601 date-time' });
        else consentAt = new Date(c.at).toISOString();
      }
    } else problems.push({ path: `${at}.consent`, message: 'expected true/false or { marketing, source, at }' });
  }
  const fields: ContactFields = {
    email: email?.toLowerCase(),
    name: str(take(traits, used, 'name')) ?? ([first, last].filter(Boolean).join(' ') || undefined),
    role: str(take(traits, used, 'role', 'title')),
    locale: normalizeLocale(str(take(traits, used, 'locale')) ?? str(context.locale)),
    timezone,
    consentMarketing,
    consentSource,
    consentAt,
    traits: rest(traits, used),
  };
  return { fields, problems };
}

const MAX_MRR = 999_999_999_999;
const MAX_SEATS = 2_147_483_647;

export function mapAccount(traits: Traits = {}, at = 'traits'): { fields: AccountFields; problems: Problem[] } {
  const used = new Set<string>();
  const problems: Problem[] = [];
  const phase = str(take(traits, used, 'phase', 'lifecyclePhase', 'lifecycle_phase'));
  if (phase !== undefined && !(PHASES as readonly string[]).includes(phase)) problems.push({ path: `${at}.phase`, message: `expected one of ${PHASES.join(', ')} (got "${phase}")` });
  // The columns' ranges: mrr numeric(14,2), seats integer.
  const num = (key: string, max: number): number | undefined => {
    const v = take(traits, used, key);
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(n) || n < 0 || n > max) {
      problems.push({ path: `${at}.${key}`, message: `expected a number from 0 to ${max} (got ${JSON.stringify(v)})` });
      return undefined;
    }
    return n;
  };
  const date = (key: string, ...names: string[]): string | undefined => {
    const v = str(take(traits, used, key, ...names));
    if (v === undefined) return undefined;
    if (!DATE.test(v) || Number.isNaN(Date.parse(v))) {
      problems.push({ path: `${at}.${key}`, message: `expected a date such as 2026-04-01 (got "${v}")` });
      return undefined;
    }
    return v.slice(0, 10);
  };
  const timezone = str(take(traits, used, 'timezone', 'time_zone'));
  if (timezone !== undefined && !isValidTimezone(timezone)) problems.push({ path: `${at}.timezone`, message: `unknown IANA time zone "${timezone}"` });
  const highTouch = take(traits, used, 'highTouch', 'high_touch');
  if (highTouch !== undefined && typeof highTouch !== 'boolean') problems.push({ path: `${at}.highTouch`, message: 'expected true or false' });
  const csm = take(traits, used, 'csmOwner', 'csm_owner', 'csm');
  const seats = num('seats', MAX_SEATS);
  const fields: AccountFields = {
    name: str(take(traits, used, 'name')),
    plan: str(take(traits, used, 'plan')),
    mrr: num('mrr', MAX_MRR),
    sizeSegment: str(take(traits, used, 'sizeSegment', 'size_segment', 'segment', 'size')),
    region: str(take(traits, used, 'region')),
    phase: phase as Phase | undefined,
    contractStart: date('contractStart', 'contract_start'),
    renewalDate: date('renewalDate', 'renewal_date'),
    csmOwner: csm === null ? null : str(csm),
    highTouch: typeof highTouch === 'boolean' ? highTouch : undefined,
    seats: seats === undefined ? undefined : Math.round(seats),
    timezone,
    locale: normalizeLocale(str(take(traits, used, 'locale'))),
    traits: rest(traits, used),
  };
  return { fields, problems };
}

/** `ja-JP` → `ja`, `en_US` → `en`: templates are per language. */
export function normalizeLocale(locale: string | undefined): string | undefined {
  if (!locale) return undefined;
  return locale.split(/[-_]/)[0].toLowerCase();
}
