/**
 * The health model and its maths, with no framework or database: the set-based SQL in
 * `health-sql.ts` computes exactly these formulas, and tests hold both to hand-calculated values.
 *
 * A component measures one signal of an account (a number, or null when there is nothing to
 * measure), turns it into 0-100 points with a piecewise-linear rule, and weighs in. The score
 * is the weighted mean of the components' points; the band follows from thresholds.
 */

export const PHASES = ['onboarding', 'adoption', 'established', 'renewal', 'churned'] as const;
export type Phase = (typeof PHASES)[number];

export const BANDS = ['green', 'yellow', 'red'] as const;
export type Band = (typeof BANDS)[number];

/** What a component measures, per account. */
export type Measure =
  /** Days since the last of these events (today = 0); null when never seen. */
  | { kind: 'days_since_last'; events: string[] }
  /** Count of these events in the last `days` divided by the count in the `days` before (at least 1); null when both are 0. */
  | { kind: 'frequency_change'; events: string[]; days: number }
  /** Distinct key features (events of the list) used in the last `days`. */
  | { kind: 'feature_breadth'; events: string[]; days: number }
  /** Contacts active in the last `days` (optionally: who did `event`) divided by the account's seats; null without seats. */
  | { kind: 'active_users'; days: number; event?: string }
  /** Share of the emails sent to the account in the last `days` that a person opened or clicked (machine opens and bot clicks excluded); null when none was sent. */
  | { kind: 'email_engagement'; days: number }
  /** The latest NPS answer (0-10) from any contact of the account in the last `days`; null when none. */
  | { kind: 'nps'; days: number }
  /** Hand-offs to a CSM that are not closed. */
  | { kind: 'open_handoffs' };

export type MeasureKind = Measure['kind'];

/** Points for the signal value: [value, points] pairs, values strictly increasing; flat outside. */
export type Points = ReadonlyArray<readonly [number, number]>;

export interface Component {
  name: string;
  measure: Measure;
  weight: number;
  points: Points;
  /** Points when the value is null, or 'skip': leave the component out and re-weigh the others. */
  missing: number | 'skip';
}

export interface Bands {
  /** Score at or above: green. */
  green: number;
  /** Score at or above (and below green): yellow; below: red. */
  yellow: number;
}

/** A lifecycle phase's own weights and bands (anything not given comes from the defaults). */
export interface Profile {
  weights: Record<string, number>;
  bands: Bands;
}

export interface HealthModel {
  components: Component[];
  bands: Bands;
  profiles: Partial<Record<Phase, Profile>>;
}

export interface ComponentResult {
  value: number | null;
  points: number | null;
  weight: number;
  /** Points this component adds to the score (weight × points / total weight counted); 0 when skipped. */
  contribution: number;
}

export interface HealthResult {
  score: number;
  band: Band;
  profile: Phase | 'default';
  components: Record<string, ComponentResult>;
}

/** Piecewise-linear interpolation over the points; values outside the first/last point are clamped. */
export function pointsFor(points: Points, value: number): number {
  if (value <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i];
    if (value <= x1) {
      const [x0, y0] = points[i - 1];
      return y0 + (value - x0) * slope(points, i);
    }
  }
  return points[points.length - 1][1];
}

/** Slope of the segment ending at point i (the SQL binds the same double, so both agree bit for bit). */
export function slope(points: Points, i: number): number {
  return (points[i][1] - points[i - 1][1]) / (points[i][0] - points[i - 1][0]);
}

export function bandFor(score: number, bands: Bands): Band {
  return score >= bands.green ? 'green' : score >= bands.yellow ? 'yellow' : 'red';
}

/**
 * Rounds as PostgreSQL's round(float8::numeric, n) does: the double is first written with 15
 * significant digits, then rounded half away from zero in decimal. Scores are never negative.
 */
export function roundTo(x: number, digits: number): number {
  if (!Number.isFinite(x) || x < 0) return Math.round(x * 10 ** digits) / 10 ** digits;
  const text = x.toPrecision(15);
  if (text.includes('e')) return Math.round(x * 10 ** digits) / 10 ** digits;
  const [int, frac = ''] = text.split('.');
  const kept = (frac + '0'.repeat(digits + 1)).slice(0, digits + 1);
  const scaled = BigInt(int + kept.slice(0, digits)) + (Number(kept[digits]) >= 5 ? 1n : 0n);
  return Number(scaled) / 10 ** digits;
}

export const round2 = (x: number) => roundTo(x, 2);

/** The phase's profile, resolved: each component's weight and the bands. */
export function resolveProfile(model: HealthModel, phase: string): { name: Phase | 'default'; weights: number[]; bands: Bands } {
  const profile = model.profiles[phase as Phase];
  if (!profile) return { name: 'default', weights: model.components.map((c) => c.weight), bands: model.bands };
  return {
    name: phase as Phase,
    weights: model.components.map((c) => profile.weights[c.name] ?? c.weight),
    bands: profile.bands,
  };
}

/** Scores one account from its measured values (in the model's component order). */
export function scoreAccount(model: HealthModel, phase: string, values: ReadonlyArray<number | null>): HealthResult {
  const profile = resolveProfile(model, phase);
  const parts = model.components.map((c, i) => {
    const value = values[i];
    const weight = profile.weights[i];
    const points = value === null || Number.isNaN(value) ? (c.missing === 'skip' ? null : c.missing) : pointsFor(c.points, value);
    return { c, value: value === null || Number.isNaN(value) ? null : value, weight, points };
  });
  let total = 0;
  let sum = 0;
  for (const p of parts) {
    if (p.points === null || p.weight === 0) continue;
    total += p.weight;
    sum += p.weight * p.points;
  }
  // Validation guarantees a counted component in every profile; 0 is the honest floor otherwise.
  const raw = total > 0 ? sum / total : 0;
  const score = round2(raw);
  const components: Record<string, ComponentResult> = {};
  for (const p of parts) {
    const counted = p.points !== null && p.weight > 0 && total > 0;
    components[p.c.name] = {
      value: p.value === null ? null : roundTo(p.value, 4),
      points: p.points === null ? null : round2(p.points),
      weight: p.weight,
      contribution: counted ? round2((p.weight * (p.points as number)) / total) : 0,
    };
  }
  return { score, band: bandFor(score, profile.bands), profile: profile.name, components };
}

/** `frequency_change`'s value: the recent count over the earlier one (at least 1); null when both are 0. */
export function frequencyChange(recent: number, earlier: number): number | null {
  if (recent === 0 && earlier === 0) return null;
  return recent / Math.max(earlier, 1);
}

/** `active_users`' value: active contacts per seat; null when the account has no seat count. */
export function activeShare(active: number, seats: number | null): number | null {
  return seats === null || seats <= 0 ? null : active / seats;
}

/** The signals the model needs per account, grouped so that each is computed once. */
export function usageWindowDays(model: HealthModel): number {
  let days = 1;
  for (const c of model.components) {
    const m = c.measure;
    if (m.kind === 'frequency_change') days = Math.max(days, 2 * m.days);
    else if (m.kind === 'feature_breadth' || m.kind === 'active_users') days = Math.max(days, m.days);
  }
  return days;
}
