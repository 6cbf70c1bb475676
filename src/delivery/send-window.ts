/**
 * Send windows ("quiet hours" are their complement) in the recipient's own timezone, e.g.
 * `Mon-Fri 09:00-18:00` or `Mon-Fri 09:00-12:00, Mon-Fri 13:00-18:00; Sat 10:00-12:00`.
 * Pure arithmetic on instants: local wall-clock times are turned into instants through the
 * zone's offset at that moment, so the answer is right on both sides of a DST change.
 */

export interface WindowRule {
  /** Days the window is open, 0 = Sunday … 6 = Saturday. */
  days: ReadonlySet<number>;
  /** Minutes after local midnight. start < end; the window is [start, end). */
  start: number;
  end: number;
}

/** `null` means always open. */
export type SendWindow = readonly WindowRule[] | null;

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Parses a window spec; throws an Error naming the bad part. `always` (or empty) = no window. */
export function parseSendWindow(spec: string): SendWindow {
  const text = spec.trim();
  if (text === '' || /^(always|any|none|off)$/i.test(text)) return null;
  const rules: WindowRule[] = [];
  for (const raw of text.split(/[;,]/)) {
    const part = raw.trim();
    if (!part) continue;
    const m = /^([A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?(?:\s*\+\s*[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?)*|daily)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/i.exec(part);
    if (!m) throw new Error(`"${part}": expected days and hours such as "Mon-Fri 09:00-18:00"`);
    const days = m[1].toLowerCase() === 'daily' ? new Set([0, 1, 2, 3, 4, 5, 6]) : parseDays(m[1], part);
    const start = minutes(Number(m[2]), Number(m[3]), part);
    const end = minutes(Number(m[4]), Number(m[5]), part);
    if (end <= start) throw new Error(`"${part}": the window must end after it starts on the same day (split overnight windows in two)`);
    rules.push({ days, start, end });
  }
  if (!rules.length) return null;
  return rules;
}

function parseDays(text: string, part: string): Set<number> {
  const days = new Set<number>();
  for (const group of text.split('+')) {
    const [a, b] = group.split('-').map((d) => d.trim().toLowerCase());
    const from = DAY_NAMES.indexOf(a);
    const to = b === undefined ? from : DAY_NAMES.indexOf(b);
    if (from < 0 || to < 0) throw new Error(`"${part}": unknown day in "${group.trim()}" (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)`);
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return days;
}

function minutes(h: number, m: number, part: string): number {
  if (h > 24 || m > 59 || (h === 24 && m !== 0)) throw new Error(`"${part}": ${h}:${String(m).padStart(2, '0')} is not a time of day`);
  return h * 60 + m;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows the IANA zone. */
export function isValidTimeZone(tz: string | null | undefined): tz is string {
  if (!tz) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The first valid zone of the list (contact → account → default). */
export function resolveTimeZone(...candidates: Array<string | null | undefined>): string {
  for (const tz of candidates) if (isValidTimeZone(tz)) return tz;
  return 'UTC';
}

/** Local wall-clock time of an instant, expressed as if it were UTC milliseconds. */
function wallMs(instant: number, tz: string): number {
  const p: Record<string, number> = {};
  for (const { type, value } of formatter(tz).formatToParts(new Date(instant))) if (type !== 'literal') p[type] = Number(value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (instant % 1000 + 1000) % 1000;
}

/**
 * The instant at which the zone's clocks show `wall` (given as UTC-style ms). In a DST gap
 * (a wall time that never happens) it answers the instant the gap ends at the same offset
 * distance, i.e. the wall time shifted forward; in an overlap, the earlier of the two.
 */
export function zonedInstant(wall: number, tz: string): number {
  const first = wall - (wallMs(wall, tz) - wall);
  const second = wall - (wallMs(first, tz) - first);
  if (wallMs(second, tz) === wall) {
    // In an overlap both may match; prefer the earlier instant.
    const earlier = Math.min(first, second);
    return wallMs(earlier, tz) === wall ? earlier : second;
  }
  return Math.max(first, second);
}

const DAY_MS = 86_400_000;

/**
 * The first instant at or after `at` inside the window, in zone `tz`. `at` itself when the
 * window is open (or there is no window).
 */
export function nextSendMoment(at: Date, tz: string, window: SendWindow): Date {
  if (!window) return at;
  const t = at.getTime();
  const wall = wallMs(t, tz);
  const midnight = Math.floor(wall / DAY_MS) * DAY_MS;
  for (let k = 0; k <= 8; k++) {
    const dayWall = midnight + k * DAY_MS;
    const weekday = new Date(dayWall).getUTCDay();
    let best: number | null = null;
    for (const rule of window) {
      if (!rule.days.has(weekday)) continue;
      const start = zonedInstant(dayWall + rule.start * 60_000, tz);
      const end = zonedInstant(dayWall + rule.end * 60_000, tz);
      if (t >= end) continue;
      const candidate = Math.max(t, start);
      if (best === null || candidate < best) best = candidate;
    }
    if (best !== null) return new Date(best);
  }
  // Unreachable for a non-empty window (every rule has at least one day).
  return at;
}

/** Describes a window back in the spec's own words (for reasons and the README). */
export function describeWindow(window: SendWindow): string {
  if (!window) return 'always';
  return window
    .map((r) => {
      const days = [...r.days].sort().map((d) => DAY_NAMES[d][0].toUpperCase() + DAY_NAMES[d].slice(1)).join('+');
      const hm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
      return `${days} ${hm(r.start)}-${hm(r.end)}`;
    })
    .join('; ');
}
