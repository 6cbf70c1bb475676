import { LocalWindow, Schedule, Weekday, WEEKDAYS } from './journey';

/**
 * Local-time arithmetic in IANA timezones with Intl only (no dependency): correct across
 * DST changes and date lines because every conversion re-reads the zone's offset at the
 * instant in question. A local time that does not exist (skipped by a DST jump) resolves
 * to the same wall-clock reading after the jump.
 */
interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: Weekday;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimezone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

export function localParts(at: Date, tz: string): LocalParts & { second: number } {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(at)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: parts.weekday.toLowerCase().slice(0, 3) as Weekday,
  };
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(at: number, tz: string): number {
  const p = localParts(new Date(at), tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The instant of a local wall-clock time on a local date. */
export function localToInstant(year: number, month: number, day: number, hhmm: string, tz: string): Date {
  const [h, m] = hhmm.split(':').map(Number);
  const wall = Date.UTC(year, month - 1, day, h, m);
  let t = wall - offsetAt(wall, tz);
  const o2 = offsetAt(t, tz);
  if (wall - o2 !== t) {
    // Near a transition the first guess used the wrong side's offset.
    const t2 = wall - o2;
    t = offsetAt(t2, tz) === o2 ? t2 : Math.max(t, t2);
  }
  return new Date(t);
}

function addLocalDays(p: { year: number; month: number; day: number }, n: number) {
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + n));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: WEEKDAYS[(d.getUTCDay() + 6) % 7] };
}

/**
 * The first instant at or after `after` inside the window (local `from` ≤ time < `to`, on
 * one of `weekdays`) in `tz`. A window with `from` > `to` spans midnight.
 */
export function nextLocalWindow(after: Date, window: LocalWindow, tz: string): Date {
  const start = localParts(after, tz);
  const from = window.from ?? '00:00';
  for (let i = -1; i <= 8; i++) {
    const d = addLocalDays(start, i);
    if (window.weekdays?.length && !window.weekdays.includes(d.weekday)) continue;
    const open = localToInstant(d.year, d.month, d.day, from, tz).getTime();
    let close: number;
    if (!window.to) {
      const n = addLocalDays(d, 1);
      close = localToInstant(n.year, n.month, n.day, '00:00', tz).getTime();
    } else if (window.to > from) close = localToInstant(d.year, d.month, d.day, window.to, tz).getTime();
    else {
      const n = addLocalDays(d, 1);
      close = localToInstant(n.year, n.month, n.day, window.to, tz).getTime();
    }
    const candidate = Math.max(open, after.getTime());
    if (candidate < close) return new Date(candidate);
  }
  throw new Error('no local window within 8 days (no weekdays allowed?)');
}

/** The next occurrence of a schedule strictly after `after` (undefined: a one-off in the past). */
export function nextScheduleTime(s: Schedule, after: Date, defaultTz: string): Date | undefined {
  if ('once' in s) {
    const t = new Date(s.once);
    return t.getTime() > after.getTime() ? t : undefined;
  }
  const tz = s.timezone ?? defaultTz;
  const start = localParts(after, tz);
  for (let i = 0; i <= 62; i++) {
    const d = addLocalDays(start, i);
    if (s.every === 'week' && s.weekday && d.weekday !== s.weekday) continue;
    if (s.every === 'month' && d.day !== Math.min(s.dayOfMonth ?? 1, daysInMonth(d.year, d.month))) continue;
    const t = localToInstant(d.year, d.month, d.day, s.at, tz);
    if (t.getTime() > after.getTime()) return t;
  }
  return undefined;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `3d`, `12h`, `30m`, `2w` → milliseconds. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+)\s*(w|d|h|m)$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n * { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'w' | 'd' | 'h' | 'm'];
}

export function formatDuration(ms: number): string {
  for (const [u, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${u}`;
  }
  return `${ms}ms`;
}
