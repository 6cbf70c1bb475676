/**
 * The standard data every template may use. The engine builds it once per message
 * (RenderContextBuilder.forRecipient) and stores it with the message, so a later re-render
 * of the same template version is exact. Validation checks every variable a template uses
 * against CONTEXT_SHAPE below.
 */
export interface RenderContext {
  contact: {
    id: string;
    externalId: string;
    name: string;
    firstName?: string;
    email: string;
    role: string | null;
    locale: string;
    timezone: string;
    traits: Record<string, unknown>;
  };
  account: {
    id: string;
    externalId: string;
    name: string;
    plan: string | null;
    phase: string;
    mrr: number | null;
    seats: number | null;
    contractStart: string | null;
    renewalDate: string | null;
    csmOwner: string | null;
    highTouch: boolean;
    traits: Record<string, unknown>;
  };
  /** The account's CSM from team.yaml, or null when it has none (or an unknown id). */
  csm: { name: string; email: string; title?: string } | null;
  signals: RenderSignals;
  journey?: { key: string; name: string };
  sender: { name: string; email: string; address: string; contact: string };
  /** When the context was built (ISO 8601, UTC). */
  now: string;
}

/**
 * A fixed set of usage figures, as of `now` (whole UTC days, see src/signals). `null` means
 * "never" (days since) or "unknown" (no contract dates, no seats).
 */
export interface RenderSignals {
  /** The recipient's own last login, in days (0 = today); null if never. */
  daysSinceLastLogin: number | null;
  /** The recipient's logins in the last 30 days. */
  logins30d: number;
  /** Logins across the account, last 30 days and the 30 days before that. */
  accountLogins30d: number;
  accountLoginsPrev30d: number;
  /** Distinct contacts with any activity in the last 30 days. */
  activeUsers30d: number;
  seats: number | null;
  /** activeUsers30d / seats as a whole percentage; null without seats. */
  seatUtilization: number | null;
  /** Distinct key features used in the last 30 days. */
  featuresUsed30d: number;
  /** Key features (config KEY_FEATURES) used at least once by the account, and never used. */
  usedFeatures: string[];
  unusedFeatures: string[];
  /** Each key feature's use by the account: count over 30 days, days since last use. */
  keyFeatureUsage: { key: string; count30d: number; daysSinceLast: number | null }[];
  daysUntilRenewal: number | null;
  daysSinceContractStart: number | null;
}

/** A description of the context's fields, for strict variable checking at validation time. */
export type Shape =
  | { kind: 'scalar' }
  | { kind: 'any' }
  | { kind: 'object'; fields: Record<string, Shape> }
  | { kind: 'array'; of: Shape };

const scalar: Shape = { kind: 'scalar' };
const any: Shape = { kind: 'any' };
const obj = (fields: Record<string, Shape>): Shape => ({ kind: 'object', fields });
const scalars = (...names: string[]) => Object.fromEntries(names.map((n) => [n, scalar]));

/** The fields of `signals`, in RenderSignals' order: every one, and no other (the type says so). */
const SIGNALS: Record<keyof RenderSignals, Shape> = {
  daysSinceLastLogin: scalar,
  logins30d: scalar,
  accountLogins30d: scalar,
  accountLoginsPrev30d: scalar,
  activeUsers30d: scalar,
  seats: scalar,
  seatUtilization: scalar,
  featuresUsed30d: scalar,
  usedFeatures: { kind: 'array', of: scalar },
  unusedFeatures: { kind: 'array', of: scalar },
  keyFeatureUsage: { kind: 'array', of: obj(scalars('key', 'count30d', 'daysSinceLast')) },
  daysUntilRenewal: scalar,
  daysSinceContractStart: scalar,
};

/** Every field of RenderSignals, in the order the context holds them. */
export const SIGNAL_FIELDS = Object.keys(SIGNALS) as (keyof RenderSignals)[];

export const CONTEXT_SHAPE: Shape = obj({
  contact: obj({ ...scalars('id', 'externalId', 'name', 'firstName', 'email', 'role', 'locale', 'timezone'), traits: any }),
  account: obj({
    ...scalars('id', 'externalId', 'name', 'plan', 'phase', 'mrr', 'seats', 'contractStart', 'renewalDate', 'csmOwner', 'highTouch'),
    traits: any,
  }),
  csm: obj(scalars('name', 'email', 'title')),
  signals: obj(SIGNALS),
  journey: obj(scalars('key', 'name')),
  sender: obj(scalars('name', 'email', 'address', 'contact')),
  now: scalar,
});

/** Every leaf path of the shape (`contact.name`, `signals.usedFeatures`, …), for messages and docs. */
export function contextPaths(shape: Shape = CONTEXT_SHAPE, prefix = ''): string[] {
  if (shape.kind !== 'object') return [prefix];
  return Object.entries(shape.fields).flatMap(([k, s]) => contextPaths(s, prefix ? `${prefix}.${k}` : k));
}

export interface SampleOptions {
  locale: string;
  timezone?: string;
  sender: RenderContext['sender'];
  keyFeatures: string[];
  now: Date;
  csm?: RenderContext['csm'];
}

/** Realistic sample data for previews and validation renders (no database). */
export function sampleContext(o: SampleOptions): RenderContext {
  const ja = o.locale === 'ja';
  const day = 86_400_000;
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const used = o.keyFeatures.slice(0, Math.ceil(o.keyFeatures.length / 2));
  const unused = o.keyFeatures.slice(used.length);
  return {
    contact: {
      id: '1',
      externalId: 'sample-user',
      name: ja ? '佐藤 健太' : 'Alex Morgan',
      firstName: ja ? '健太' : 'Alex',
      email: ja ? 'kenta.sato@example.co.jp' : 'alex.morgan@example.com',
      role: 'admin',
      locale: o.locale,
      timezone: o.timezone ?? (ja ? 'Asia/Tokyo' : 'America/New_York'),
      traits: {},
    },
    account: {
      id: '1',
      externalId: 'sample-account',
      name: ja ? '株式会社サンプル商事' : 'Sample Industries Inc.',
      plan: 'growth',
      phase: 'adoption',
      mrr: 120000,
      seats: 25,
      contractStart: iso(new Date(o.now.getTime() - 45 * day)),
      renewalDate: iso(new Date(o.now.getTime() + 320 * day)),
      csmOwner: o.csm ? 'csm-sample' : null,
      highTouch: !!o.csm,
      traits: {},
    },
    csm: o.csm ?? null,
    signals: {
      daysSinceLastLogin: 16,
      logins30d: 3,
      accountLogins30d: 142,
      accountLoginsPrev30d: 118,
      activeUsers30d: 14,
      seats: 25,
      seatUtilization: 56,
      featuresUsed30d: used.length,
      usedFeatures: used,
      unusedFeatures: unused,
      keyFeatureUsage: o.keyFeatures.map((key, i) => ({
        key,
        count30d: i < used.length ? 40 - i * 7 : 0,
        daysSinceLast: i < used.length ? i : null,
      })),
      daysUntilRenewal: 320,
      daysSinceContractStart: 45,
    },
    journey: { key: 'sample-journey', name: ja ? 'サンプル ジャーニー' : 'Sample journey' },
    sender: o.sender,
    now: o.now.toISOString(),
  };
}
