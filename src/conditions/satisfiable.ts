import { Condition, isOperandRight, Operand, Scalar } from './condition';
import { formatOperand } from './format';

/**
 * A conservative check that a condition can never be true: `false`, or an `all` whose
 * parts contradict each other (two different required values of one field, an empty
 * numeric range, a count below zero). Returns why, or undefined when it may hold.
 * It never claims "impossible" for a satisfiable condition; it may miss some.
 */
export function neverTrue(c: Condition): string | undefined {
  switch (c.type) {
    case 'const':
      return c.value ? undefined : 'it is "false"';
    case 'any': {
      const why = c.of.map(neverTrue);
      return c.of.length === 0 ? 'an empty any: is false' : why.every(Boolean) ? why.join('; and ') : undefined;
    }
    case 'not':
      return c.of.type === 'const' && c.of.value ? 'it is "not true"' : undefined;
    case 'all':
      return c.of.map(neverTrue).find(Boolean) ?? contradiction(flatten(c));
    default:
      return contradiction([c]);
  }
}

function flatten(c: Condition): Condition[] {
  return c.type === 'all' ? c.of.flatMap(flatten) : [c];
}

const NON_NEGATIVE = new Set(['event_count', 'distinct_events', 'active_contacts', 'engagement', 'days_since_last']);

function contradiction(parts: Condition[]): string | undefined {
  const equal = new Map<string, Scalar[]>();
  const range = new Map<string, { lo: number; loOpen: boolean; hi: number; hiOpen: boolean }>();
  const bound = (o: Operand) => {
    const k = formatOperand(o);
    if (!range.has(k)) {
      const nonNeg = o.kind === 'signal' && NON_NEGATIVE.has(o.signal.kind);
      range.set(k, { lo: nonNeg ? 0 : -Infinity, loOpen: false, hi: Infinity, hiOpen: false });
    }
    return range.get(k)!;
  };
  for (const p of parts) {
    if (p.type === 'compare' && !isOperandRight(p.right)) {
      const k = formatOperand(p.left);
      if (p.op === '=') {
        const seen = equal.get(k) ?? [];
        if (seen.length && !seen.includes(p.right)) return `${k} cannot be both ${JSON.stringify(seen[0])} and ${JSON.stringify(p.right)}`;
        equal.set(k, [...seen, p.right]);
      }
      if (typeof p.right === 'number') {
        const r = bound(p.left);
        const v = p.right;
        if (p.op === '>' || p.op === '>=') {
          if (v > r.lo || (v === r.lo && p.op === '>')) Object.assign(r, { lo: v, loOpen: p.op === '>' });
        } else if (p.op === '<' || p.op === '<=') {
          if (v < r.hi || (v === r.hi && p.op === '<')) Object.assign(r, { hi: v, hiOpen: p.op === '<' });
        } else if (p.op === '=') {
          if (v > r.lo) Object.assign(r, { lo: v, loOpen: false });
          if (v < r.hi) Object.assign(r, { hi: v, hiOpen: false });
        }
        if (r.lo > r.hi || (r.lo === r.hi && (r.loOpen || r.hiOpen))) return `no value of ${k} satisfies all of its comparisons`;
      }
    }
    if (p.type === 'in') {
      const k = formatOperand(p.left);
      const seen = equal.get(k);
      if (seen?.length && !p.values.some((v) => seen.includes(v))) return `${k} is ${JSON.stringify(seen[0])}, never one of ${p.values.join(', ')}`;
    }
  }
  return undefined;
}
