/**
 * Goal conversion of treated vs held-out recipients: the difference of two proportions with
 * a 95% confidence interval. Newcombe's hybrid score interval (method 10, built from the two
 * Wilson intervals) is used instead of the textbook Wald interval because journey arms are
 * often small or have rates near 0 or 1, where Wald undercovers and can leave [-1, 1].
 */
export const Z95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

export interface Proportion {
  successes: number;
  total: number;
  /** null when total is 0. */
  rate: number | null;
  ci: Interval | null;
}

export interface Comparison {
  treated: Proportion;
  control: Proportion;
  /** treated rate − control rate; null when either arm is empty. */
  difference: number | null;
  ci: Interval | null;
  /** The interval excludes zero. */
  significant: boolean;
  /** Relative lift over control (null when the control rate is 0 or unknown). */
  lift: number | null;
}

function check(successes: number, total: number): void {
  if (!Number.isInteger(successes) || !Number.isInteger(total) || successes < 0 || total < 0 || successes > total) {
    throw new RangeError(`expected whole counts with 0 <= successes <= total (got ${successes}/${total})`);
  }
}

/** Wilson score interval of a proportion. */
export function wilson(successes: number, total: number, z = Z95): Interval | null {
  check(successes, total);
  if (total === 0) return null;
  const p = successes / total;
  const z2 = z * z;
  const denom = 1 + z2 / total;
  const center = (p + z2 / (2 * total)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total));
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

export function proportion(successes: number, total: number, z = Z95): Proportion {
  check(successes, total);
  return { successes, total, rate: total ? successes / total : null, ci: wilson(successes, total, z) };
}

/** Treated minus control, with Newcombe's hybrid score interval. */
export function compareConversion(treated: { successes: number; total: number }, control: { successes: number; total: number }, z = Z95): Comparison {
  const t = proportion(treated.successes, treated.total, z);
  const c = proportion(control.successes, control.total, z);
  if (t.rate === null || c.rate === null || !t.ci || !c.ci) {
    return { treated: t, control: c, difference: null, ci: null, significant: false, lift: null };
  }
  const d = t.rate - c.rate;
  const low = d - Math.sqrt((t.rate - t.ci.low) ** 2 + (c.ci.high - c.rate) ** 2);
  const high = d + Math.sqrt((t.ci.high - t.rate) ** 2 + (c.rate - c.ci.low) ** 2);
  const ci = { low: Math.max(-1, low), high: Math.min(1, high) };
  return { treated: t, control: c, difference: d, ci, significant: ci.low > 0 || ci.high < 0, lift: c.rate > 0 ? d / c.rate : null };
}

/** A rate as a percentage with one decimal, or an em dash. */
export function percent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)}%`;
}
