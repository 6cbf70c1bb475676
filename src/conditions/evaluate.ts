import { signalName } from '../signals/signal';
import { CompareOp, Condition, isOperandRight, Operand, operandType, Scalar, ValueType } from './condition';
import { daysBetween, Facts, occurredSignals } from './facts';
import { formatCondition, formatOperand, formatScalar } from './format';

export interface Evaluation {
  value: boolean;
  /** The values that decided the result, e.g. `count(login, 14d) is 0 (needs = 0)`. */
  reasons: string[];
}

type Value = string | number | boolean | null;

/**
 * Evaluates a condition for one subject. Same semantics as `compileConditionSql`
 * (proved by test/conditions/sql-vs-memory.property.test.ts): a predicate over a missing
 * value is false; traits are read only when their JSON type matches the literal's.
 */
export function evaluateCondition(cond: Condition, facts: Facts): Evaluation {
  switch (cond.type) {
    case 'const':
      return { value: cond.value, reasons: [cond.value ? 'always' : 'never'] };
    case 'all': {
      const reasons: string[] = [];
      for (const c of cond.of) {
        const r = evaluateCondition(c, facts);
        if (!r.value) return r; // the first failing part decides
        reasons.push(...r.reasons);
      }
      return { value: true, reasons };
    }
    case 'any': {
      const reasons: string[] = [];
      for (const c of cond.of) {
        const r = evaluateCondition(c, facts);
        if (r.value) return r; // the first passing part decides
        reasons.push(...r.reasons);
      }
      return { value: false, reasons };
    }
    case 'not': {
      const r = evaluateCondition(cond.of, facts);
      return { value: !r.value, reasons: r.reasons.map((x) => (r.value ? `not: ${x}` : x)) };
    }
    case 'present': {
      const v = operandValue(cond.operand, undefined, facts);
      return leaf(v !== null, `${formatOperand(cond.operand)} is ${fmt(v)}`, 'needs a value');
    }
    case 'in': {
      if (!cond.values.length) return { value: false, reasons: [`${formatOperand(cond.left)}: empty list`] };
      const type = typeFor(cond.left, cond.values[0]);
      const v = operandValue(cond.left, type, facts);
      const ok = v !== null && cond.values.some((x) => equal(v, coerce(x, type)));
      return leaf(ok, `${formatOperand(cond.left)} is ${fmt(v)}`, `needs one of ${cond.values.map(formatScalar).join(', ')}`);
    }
    case 'compare': {
      if (isOperandRight(cond.right)) {
        const l = operandValue(cond.left, 'number', facts);
        const r = operandValue(cond.right.operand, 'number', facts);
        const f = cond.right.factor;
        const rhs = r === null ? null : f === undefined ? (r as number) : (r as number) * f;
        const ok = l !== null && rhs !== null && compare(l, cond.op, rhs);
        const label = `${formatOperand(cond.right.operand)}${f === undefined ? '' : ` × ${f}`}`;
        return leaf(ok, `${formatOperand(cond.left)} is ${fmt(l)}, ${label} is ${fmt(rhs)}`, `needs ${cond.op}`);
      }
      const type = typeFor(cond.left, cond.right);
      const v = operandValue(cond.left, type, facts);
      const ok = v !== null && compare(v, cond.op, coerce(cond.right, type));
      return leaf(ok, `${formatOperand(cond.left)} is ${fmt(v)}`, `needs ${cond.op} ${formatScalar(cond.right)}`);
    }
    case 'occurred': {
      const [sig] = occurredSignals(cond);
      const v = facts.signals[signalName(sig)] ?? null;
      const label = formatCondition(cond);
      if (cond.withinDays !== undefined) return leaf(v !== null && v >= 1, `${label}: ${fmt(v)} times`, 'needs at least 1');
      if (cond.sinceEntry) {
        const entered = facts.enteredDay;
        const limit = entered === undefined ? null : daysBetween(entered, facts.today);
        return leaf(v !== null && limit !== null && v <= limit, `${label}: last ${v === null ? 'never' : `${v} days ago`}`, `entered ${limit ?? '?'} days ago`);
      }
      return leaf(v !== null, `${label}: last ${v === null ? 'never' : `${v} days ago`}`, 'needs an occurrence');
    }
  }
}

function leaf(value: boolean, what: string, need: string): Evaluation {
  return { value, reasons: [`${what} (${need}) → ${value}`] };
}

function typeFor(o: Operand, literal: Scalar): ValueType {
  const t = operandType(o);
  if (t !== 'trait') return t;
  return typeof literal === 'number' ? 'number' : typeof literal === 'boolean' ? 'boolean' : 'text';
}

function coerce(v: Scalar, type: ValueType): Value {
  if (type === 'number') return Number(v);
  if (type === 'boolean') return Boolean(v);
  return String(v);
}

function equal(a: Value, b: Value): boolean {
  return a === b;
}

function compare(a: Value, op: CompareOp, b: Value): boolean {
  if (a === null || b === null) return false;
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

/** The operand's value for these facts, or null when missing or (for traits) of another JSON type. */
export function operandValue(o: Operand, type: ValueType | undefined, facts: Facts): Value {
  switch (o.kind) {
    case 'account':
      return norm(facts.account?.[o.field]);
    case 'contact':
      return norm(facts.contact?.[o.field]);
    case 'account_trait':
    case 'contact_trait': {
      const traits = o.kind === 'account_trait' ? facts.account?.traits : facts.contact?.traits;
      const raw = traits && Object.prototype.hasOwnProperty.call(traits, o.key) ? traits[o.key] : undefined;
      if (raw === undefined || raw === null) return null;
      if (type === undefined) return typeof raw === 'object' ? JSON.stringify(raw) : (raw as Value);
      if (type === 'number') return typeof raw === 'number' ? raw : null;
      if (type === 'boolean') return typeof raw === 'boolean' ? raw : null;
      return typeof raw === 'string' ? raw : null;
    }
    case 'health': {
      const h = facts.health;
      if (!h) return null;
      if (o.field === 'days_since_band_change') return h.band_changed_day ? daysBetween(h.band_changed_day, facts.today) : null;
      return norm(h[o.field]);
    }
    case 'signal':
      return facts.signals[signalName(o.signal)] ?? null;
  }
}

function norm(v: unknown): Value {
  return v === undefined || v === null ? null : (v as Value);
}

function fmt(v: Value): string {
  return v === null ? 'missing' : typeof v === 'string' ? JSON.stringify(v) : String(v);
}
