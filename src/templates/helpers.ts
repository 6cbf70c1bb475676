import Handlebars from 'handlebars';
// Internal module, pinned by handlebars ^4.7: the same proto-access rules a normal call builds.
import { createProtoAccessControl } from 'handlebars/dist/cjs/handlebars/internal/proto-access';
import { formatDate, formatNumber, pluralCategory } from './formatting';
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

/**
 * `{ ...base, ...extra }`, built by assignment: V8's spread into a new object followed by more
 * keys takes microseconds (a fresh hidden class each time), this takes a few hundred ns. Own
 * enumerable string keys, as spread copies; a "__proto__" key stays a plain property.
 */
function extend(base: object, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  copyInto(out, base as Record<string, unknown>);
  copyInto(out, extra);
  return out;
}

function copyInto(out: Record<string, unknown>, src: Record<string, unknown>): void {
  for (const k in src) {
    if (!Object.prototype.hasOwnProperty.call(src, k)) continue;
    if (k === '__proto__') Object.defineProperty(out, k, { value: src[k], enumerable: true, writable: true, configurable: true });
    else out[k] = src[k];
  }
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
      return formatDate(o.data.tl.locale, o.data.tl.timezone, value, typeof rest[0] === 'string' ? rest[0] : 'long');
    },
    formatNumber: (value: unknown, ...rest: unknown[]) => {
      const o = rest.pop() as Opts;
      if (value === null || value === undefined || value === '') return '';
      return formatNumber(o.data.tl.locale, typeof rest[0] === 'string' ? rest[0] : 'decimal', value);
    },
    formatCurrency: (value: unknown, ...rest: unknown[]) => {
      const o = rest.pop() as Opts;
      if (value === null || value === undefined || value === '') return '';
      return formatNumber(o.data.tl.locale, 'currency', value, typeof rest[0] === 'string' ? rest[0] : 'JPY');
    },
    /** {{plural n one="# day" other="# days"}}: `#` is the formatted number; ja uses `other`. */
    plural: (n: unknown, o: Opts) => {
      const tl = o.data.tl;
      const num = Number(n);
      const form = (o.hash[pluralCategory(tl.locale, num)] ?? o.hash.other ?? '') as string;
      return form.includes('#') ? form.replace(/#/g, formatNumber(tl.locale, 'decimal', num)) : form;
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
      return o.fn(extend(typeof this === 'object' && this !== null ? this : {}, o.hash), { data: o.data });
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
