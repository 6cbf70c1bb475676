import Handlebars from 'handlebars';
// Internal module, pinned by handlebars ^4.7: the same proto-access rules a normal call builds.
import { createProtoAccessControl } from 'handlebars/dist/cjs/handlebars/internal/proto-access';
import type { LinkBuilder } from './links';

/**
 * The Handlebars environment templates are compiled in: an isolated instance with the
 * helpers authors use. Per-render state (locale, timezone, links, feature names) travels in
 * Handlebars' `data` frame as `@tl`, so one compiled template serves every recipient.
 */
export interface FeatureInfo {
  url?: string;
  names: Record<string, { name: string; description?: string }>;
}

export interface RenderData {
  locale: string;
  timezone: string;
  links: LinkBuilder;
  features: Record<string, FeatureInfo>;
  defaultLocale: string;
  /** Links already built in this render: the HTML and text parts share them. */
  memo: Map<string, string>;
}

type Opts = Handlebars.HelperOptions & { data: { tl: RenderData } };

/** Helpers that produce a value; each also counts as "known" to the compiler (faster code, unknown names fail at validation). */
export const HELPER_NAMES = [
  'track',
  'unsubscribe',
  'preferences',
  'survey',
  'openPixel',
  'formatDate',
  'formatNumber',
  'formatCurrency',
  'plural',
  'featureName',
  'featureDescription',
  'featureUrl',
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'and',
  'or',
  'not',
  'includes',
  'length',
  'join',
  'range',
  'default',
  '__partial',
] as const;

export const BUILTIN_BLOCKS = ['if', 'unless', 'each', 'with'];

const dateFormats = new Map<string, Intl.DateTimeFormat>();
/** Formatted values: the same dates and small numbers recur across recipients, and Intl formatting costs microseconds. */
const formatted = new Map<string, string>();
function memoFormat(key: string, make: () => string): string {
  let v = formatted.get(key);
  if (v === undefined) {
    if (formatted.size >= 50_000) formatted.clear();
    v = make();
    formatted.set(key, v);
  }
  return v;
}
const numberFormats = new Map<string, Intl.NumberFormat>();
const pluralRules = new Map<string, Intl.PluralRules>();

const DATE_STYLES: Record<string, Intl.DateTimeFormatOptions> = {
  short: { dateStyle: 'short' },
  medium: { dateStyle: 'medium' },
  long: { dateStyle: 'long' },
  full: { dateStyle: 'full' },
  datetime: { dateStyle: 'long', timeStyle: 'short' },
  time: { timeStyle: 'short' },
};

function dateFormat(locale: string, timeZone: string, style: string): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${style}`;
  let f = dateFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...(DATE_STYLES[style] ?? DATE_STYLES.long), timeZone });
    dateFormats.set(key, f);
  }
  return f;
}

function numberFormat(locale: string, style: string, currency?: string): Intl.NumberFormat {
  const key = `${locale}|${style}|${currency ?? ''}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, style === 'currency' ? { style: 'currency', currency: currency ?? 'JPY' } : style === 'percent' ? { style: 'percent' } : {});
    numberFormats.set(key, f);
  }
  return f;
}

/** A date-only value ("2026-03-31") is a calendar date: shown as is, not shifted by the timezone. */
function toDate(value: unknown): { date: Date; dateOnly: boolean } | undefined {
  if (value instanceof Date) return { date: value, dateOnly: false };
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return { date: new Date(`${value}T00:00:00Z`), dateOnly: true };
  if (typeof value === 'string' || typeof value === 'number') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? undefined : { date: d, dateOnly: false };
  }
  return undefined;
}

function featureEntry(tl: RenderData, key: unknown) {
  const info = tl.features[String(key)];
  return info?.names[tl.locale] ?? info?.names[tl.defaultLocale];
}

function link(tl: RenderData, key: string, make: () => string): string {
  let url = tl.memo.get(key);
  if (url === undefined) {
    url = make();
    tl.memo.set(key, url);
  }
  return url;
}

function truthy(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : !!v;
}

/** A fresh Handlebars instance with Touchline's helpers. */
export function createHandlebars(): typeof Handlebars {
  const hb = Handlebars.create();
  const h: Record<string, Handlebars.HelperDelegate> = {
    track: (url: unknown, ...rest: unknown[]) => {
      const o = rest.pop() as Opts;
      const label = typeof rest[0] === 'string' ? rest[0] : undefined;
      return link(o.data.tl, `t|${String(url)}|${label ?? ''}`, () => o.data.tl.links.track(String(url), label));
    },
    unsubscribe: (o: Opts) => link(o.data.tl, 'u', () => o.data.tl.links.unsubscribe()),
    preferences: (o: Opts) => link(o.data.tl, 'p', () => o.data.tl.links.preferences()),
    survey: (kind: unknown, score: unknown, o: Opts) => {
      const k = kind === 'csat' ? 'csat' : 'nps';
      return link(o.data.tl, `s|${k}|${Number(score)}`, () => o.data.tl.links.survey(k, Number(score)));
    },
    openPixel: (o: Opts) => link(o.data.tl, 'o', () => o.data.tl.links.openPixel()),
    /** {{formatDate account.renewalDate}} / {{formatDate now "datetime"}}: recipient's locale and timezone. */
    formatDate: (value: unknown, ...rest: unknown[]) => {
      const o = rest.pop() as Opts;
      const d = toDate(value);
      if (!d) return '';
      const style = typeof rest[0] === 'string' ? rest[0] : 'long';
      const tz = d.dateOnly ? 'UTC' : o.data.tl.timezone;
      return memoFormat(`d|${o.data.tl.locale}|${tz}|${style}|${d.date.getTime()}`, () =>
        dateFormat(o.data.tl.locale, tz, d.dateOnly && style === 'datetime' ? 'long' : style).format(d.date),
      );
    },
    formatNumber: (value: unknown, ...rest: unknown[]) => {
      const o = rest.pop() as Opts;
      if (value === null || value === undefined || value === '') return '';
      const style = typeof rest[0] === 'string' ? rest[0] : 'decimal';
      return memoFormat(`n|${o.data.tl.locale}|${style}|${value}`, () => numberFormat(o.data.tl.locale, style).format(Number(value)));
    },
    formatCurrency: (value: unknown, ...rest: unknown[]) => {
      const o = rest.pop() as Opts;
      if (value === null || value === undefined || value === '') return '';
      const currency = typeof rest[0] === 'string' ? rest[0] : 'JPY';
      return memoFormat(`c|${o.data.tl.locale}|${currency}|${value}`, () => numberFormat(o.data.tl.locale, 'currency', currency).format(Number(value)));
    },
    /** {{plural n one="# day" other="# days"}}: `#` is the formatted number; ja uses `other`. */
    plural: (n: unknown, o: Opts) => {
      const tl = o.data.tl;
      let rules = pluralRules.get(tl.locale);
      if (!rules) pluralRules.set(tl.locale, (rules = new Intl.PluralRules(tl.locale)));
      const num = Number(n);
      const form = (o.hash[rules.select(num)] ?? o.hash.other ?? '') as string;
      return form.includes('#') ? form.replace(/#/g, memoFormat(`n|${tl.locale}|decimal|${num}`, () => numberFormat(tl.locale, 'decimal').format(num))) : form;
    },
    featureName: (key: unknown, o: Opts) => featureEntry(o.data.tl, key)?.name ?? String(key),
    featureDescription: (key: unknown, o: Opts) => featureEntry(o.data.tl, key)?.description ?? '',
    featureUrl: (key: unknown, o: Opts) => o.data.tl.features[String(key)]?.url ?? '',
    eq: (a: unknown, b: unknown) => a === b,
    ne: (a: unknown, b: unknown) => a !== b,
    gt: (a: unknown, b: unknown) => Number(a) > Number(b),
    gte: (a: unknown, b: unknown) => Number(a) >= Number(b),
    lt: (a: unknown, b: unknown) => Number(a) < Number(b),
    lte: (a: unknown, b: unknown) => Number(a) <= Number(b),
    and: (...args: unknown[]) => args.slice(0, -1).every(truthy),
    or: (...args: unknown[]) => args.slice(0, -1).some(truthy),
    not: (a: unknown) => !truthy(a),
    /** {{#if (includes account.plan "growth" "enterprise")}} or (includes signals.usedFeatures "mail_sent") */
    includes: (hay: unknown, ...rest: unknown[]) => {
      const needles = rest.slice(0, -1);
      return Array.isArray(hay) ? needles.some((n) => hay.includes(n)) : needles.includes(hay);
    },
    length: (v: unknown) => (Array.isArray(v) || typeof v === 'string' ? v.length : 0),
    join: (list: unknown, ...rest: unknown[]) => (Array.isArray(list) ? list.join(typeof rest[0] === 'string' ? rest[0] : ', ') : ''),
    /** {{#each (range 0 10)}}: integers from..to inclusive (NPS scales). */
    range: (from: unknown, to: unknown) => {
      const out: number[] = [];
      for (let i = Number(from); i <= Number(to) && out.length < 1000; i++) out.push(i);
      return out;
    },
    default: (v: unknown, fallback: unknown) => (v === null || v === undefined || v === '' ? fallback : v),
    /** A partial's body, inlined at compile time: the caller's context extended by its hash arguments. */
    __partial(this: unknown, o: Opts) {
      const base = typeof this === 'object' && this !== null ? this : {};
      return o.fn({ ...base, ...o.hash }, { data: o.data });
    },
  };
  for (const [name, fn] of Object.entries(h)) hb.registerHelper(name, fn);
  return hb;
}

/**
 * Runs a compiled template without Handlebars' per-call setup (merging and wrapping every
 * helper, building proto-access rules), which costs more than rendering a small subject.
 * Uses the runtime's own "partial" entry: helpers, hooks and access rules prepared once here;
 * `data.root` set as a top-level call would. Prototype access stays blocked (tested).
 */
export function fastRenderer(hb: typeof Handlebars, template: Handlebars.TemplateDelegate): (context: object, data: Record<string, unknown>) => string {
  const helpers: Record<string, unknown> = { ...hb.helpers };
  const hooks = { helperMissing: helpers.helperMissing, blockHelperMissing: helpers.blockHelperMissing };
  delete helpers.helperMissing;
  delete helpers.blockHelperMissing;
  const partials = {};
  const decorators = {};
  const protoAccessControl = createProtoAccessControl({});
  return (context, data) => {
    // The caller's data frame is per render; @root is the context, as a top-level call sets it.
    data.root = context;
    return template(context, { partial: true, helpers, hooks, partials, decorators, protoAccessControl, data } as Handlebars.RuntimeOptions);
  };
}

export const KNOWN_HELPERS: Record<string, boolean> = Object.fromEntries(HELPER_NAMES.map((n) => [n, true]));
