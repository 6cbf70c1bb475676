/**
 * Locale- and timezone-aware formatting for the template helpers, cached twice: one Intl
 * object per locale + timezone + options (building one costs tens of microseconds), and the
 * formatted strings per value (the same dates and small counts recur across recipients, and
 * even a cached Intl formatter costs about a microsecond a call). The caches are nested maps
 * keyed by the parts themselves, so a hit builds no key string; each value map is bounded.
 */
const VALUES_LIMIT = 20_000;

interface Formatter<F> {
  format: F;
  values: Map<unknown, string>;
}

const dates = new Map<string, Map<string, Map<string, Formatter<Intl.DateTimeFormat>>>>();
const numbers = new Map<string, Map<string, Map<string, Formatter<Intl.NumberFormat>>>>();
const plurals = new Map<string, { rules: Intl.PluralRules; forms: Map<number, Intl.LDMLPluralRule> }>();
const parsedDates = new Map<string, { ms: number; dateOnly: boolean } | null>();

export const DATE_STYLES: Record<string, Intl.DateTimeFormatOptions> = {
  short: { dateStyle: 'short' },
  medium: { dateStyle: 'medium' },
  long: { dateStyle: 'long' },
  full: { dateStyle: 'full' },
  datetime: { dateStyle: 'long', timeStyle: 'short' },
  time: { timeStyle: 'short' },
};

function level<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

function remember(values: Map<unknown, string>, key: unknown, make: () => string): string {
  let v = values.get(key);
  if (v === undefined) {
    if (values.size >= VALUES_LIMIT) values.clear();
    values.set(key, (v = make()));
  }
  return v;
}

function dateFormatter(locale: string, timeZone: string, style: string): Formatter<Intl.DateTimeFormat> {
  const byZone = level(dates, locale, () => new Map<string, Map<string, Formatter<Intl.DateTimeFormat>>>());
  const byStyle = level(byZone, timeZone, () => new Map<string, Formatter<Intl.DateTimeFormat>>());
  return level(byStyle, style, () => ({ format: new Intl.DateTimeFormat(locale, { ...(DATE_STYLES[style] ?? DATE_STYLES.long), timeZone }), values: new Map() }));
}

/** The last number formatter used: a render asks for the same one many times in a row. */
let lastNumber: { locale: string; style: string; currency: string; formatter: Formatter<Intl.NumberFormat> } | undefined;

function numberFormatter(locale: string, style: string, currency: string): Formatter<Intl.NumberFormat> {
  const last = lastNumber;
  if (last && last.locale === locale && last.style === style && last.currency === currency) return last.formatter;
  const formatter = numberFormatterFor(locale, style, currency);
  lastNumber = { locale, style, currency, formatter };
  return formatter;
}

function numberFormatterFor(locale: string, style: string, currency: string): Formatter<Intl.NumberFormat> {
  const byStyle = level(numbers, locale, () => new Map<string, Map<string, Formatter<Intl.NumberFormat>>>());
  const byCurrency = level(byStyle, style, () => new Map<string, Formatter<Intl.NumberFormat>>());
  return level(byCurrency, currency, () => ({
    format: new Intl.NumberFormat(locale, style === 'currency' ? { style: 'currency', currency: currency || 'JPY' } : style === 'percent' ? { style: 'percent' } : {}),
    values: new Map(),
  }));
}

/** A date-only value ("2026-03-31") is a calendar date: shown as is, not shifted by the timezone. */
export function toDate(value: unknown): { ms: number; dateOnly: boolean } | undefined {
  if (value instanceof Date) return { ms: value.getTime(), dateOnly: false };
  if (typeof value === 'string') {
    let parsed = parsedDates.get(value);
    if (parsed === undefined) {
      if (parsedDates.size >= VALUES_LIMIT) parsedDates.clear();
      const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
      const ms = new Date(dateOnly ? `${value}T00:00:00Z` : value).getTime();
      // An impossible calendar date is kept, and fails in format() as it always has.
      parsed = Number.isNaN(ms) && !dateOnly ? null : { ms, dateOnly };
      parsedDates.set(value, parsed);
    }
    return parsed ?? undefined;
  }
  if (typeof value === 'number') {
    const ms = new Date(value).getTime();
    return Number.isNaN(ms) ? undefined : { ms, dateOnly: false };
  }
  return undefined;
}

/** `value` in the locale and timezone; '' for what is not a date. Calendar dates are formatted in UTC. */
export function formatDate(locale: string, timeZone: string, value: unknown, style: string): string {
  const d = toDate(value);
  if (!d) return '';
  const f = d.dateOnly ? dateFormatter(locale, 'UTC', style === 'datetime' ? 'long' : style) : dateFormatter(locale, timeZone, style);
  return remember(f.values, d.ms, () => f.format.format(d.ms));
}

/** `style` is decimal, percent or currency (then `currency`, default JPY). */
export function formatNumber(locale: string, style: string, value: unknown, currency = ''): string {
  const f = numberFormatter(locale, style, style === 'currency' ? currency || 'JPY' : '');
  return remember(f.values, value, () => f.format.format(Number(value)));
}

/** The CLDR plural category of `n` in `locale` ("one", "other", …). */
export function pluralCategory(locale: string, n: number): Intl.LDMLPluralRule {
  const p = level(plurals, locale, () => ({ rules: new Intl.PluralRules(locale), forms: new Map<number, Intl.LDMLPluralRule>() }));
  let form = p.forms.get(n);
  if (form === undefined) {
    if (p.forms.size >= VALUES_LIMIT) p.forms.clear();
    p.forms.set(n, (form = p.rules.select(n)));
  }
  return form;
}
