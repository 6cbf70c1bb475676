import { Signal } from '../signals/signal';
import { SignalColumns } from '../signals/signal-groups';
import { signalSql, SubjectRef } from '../signals/signal-sql';
import { SqlParams } from '../signals/sql-params';
import {
  ACCOUNT_FIELDS,
  CompareOp,
  Condition,
  CONTACT_FIELDS,
  HEALTH_FIELDS,
  isOperandRight,
  Operand,
  operandType,
  Scalar,
  ValueType,
} from './condition';

/**
 * Where the row being evaluated lives. Extends the signals' SubjectRef with the contact
 * row (contact subjects), the role of the contact in the account being evaluated (a
 * contact may belong to several accounts; roles are per membership) and the enrollment's
 * entry time (for "since entry" goals). All are SQL expressions chosen by the caller,
 * never user text.
 */
export interface ConditionRef extends SubjectRef {
  contactRow?: string;
  membershipRole?: string;
  enteredAt?: string;
  /**
   * Set-based strategy (many subjects in one statement): rollup signals are read from
   * grouped relations the caller joins (signal-groups.ts) instead of correlated subqueries.
   */
  grouped?: SignalColumns;
}

/** A signal's SQL value for the row of `ref`: from a grouped relation when the ref has one, else a correlated subquery. */
function signalExpr(signal: Signal, ref: ConditionRef, params: SqlParams, today: string): string {
  return ref.grouped?.column(signal, ref) ?? signalSql(signal, ref, params, today);
}

/** Comparisons of a non-negative integer that only tell whether it is zero. */
const ZERO_TESTS: Record<string, number> = { '=': 0, '!=': 0, '>': 0, '<=': 0, '>=': 1, '<': 1 };

/**
 * An event count that is only compared with zero (`count(login, 14d) = 0`, `occurred(x, within
 * 7d)`): in the grouped strategy, the number of rollup rows in the window (zero exactly when
 * the count is), readable from an index alone; otherwise the count itself.
 */
function countForZeroTest(signal: Extract<Signal, { kind: 'event_count' }>, ref: ConditionRef, params: SqlParams, today: string): string {
  return ref.grouped?.presence?.(signal, ref) ?? signalExpr(signal, ref, params, today);
}

export class ConditionCompileError extends Error {}

/**
 * A parameterised SQL boolean expression that is never NULL: each predicate over a
 * missing value is false (COALESCE or IS TRUE), so `not` behaves exactly like the in-memory
 * evaluator. Every literal, event name, trait key, template and journey key is a bind
 * parameter; identifiers come only from the fixed field tables.
 */
export function compileConditionSql(cond: Condition, ref: ConditionRef, params: SqlParams, today: string): string {
  switch (cond.type) {
    case 'const':
      return cond.value ? 'true' : 'false';
    case 'all':
      return cond.of.length ? `(${cond.of.map((c) => compileConditionSql(c, ref, params, today)).join(' AND ')})` : 'true';
    case 'any':
      return cond.of.length ? `(${cond.of.map((c) => compileConditionSql(c, ref, params, today)).join(' OR ')})` : 'false';
    case 'not':
      return `(NOT ${compileConditionSql(cond.of, ref, params, today)})`;
    case 'present': {
      const o = cond.operand;
      if (o.kind === 'account_trait' || o.kind === 'contact_trait') {
        return `COALESCE(jsonb_typeof(${traitsColumn(o, ref)} -> ${params.add(o.key, 'text')}) <> 'null', false)`;
      }
      return `(${operandSql(o, undefined, ref, params, today)} IS NOT NULL)`;
    }
    case 'in': {
      if (!cond.values.length) return 'false';
      const t = literalType(cond.values[0]);
      const type = valueTypeFor(cond.left, t);
      const expr = operandSql(cond.left, type, ref, params, today);
      const arr = params.add(cond.values.map((v) => (type === 'number' ? Number(v) : type === 'boolean' ? Boolean(v) : String(v))), `${sqlType(type)}[]`);
      return falseIfNull(`${cast(expr, type)} = ANY(${arr})`, cond.left);
    }
    case 'compare': {
      if (isOperandRight(cond.right)) {
        const l = operandSql(cond.left, 'number', ref, params, today);
        const r = operandSql(cond.right.operand, 'number', ref, params, today);
        const scaled = cond.right.factor === undefined ? `(${r})::float8` : `(${r})::float8 * ${params.add(cond.right.factor, 'float8')}`;
        return falseIfNull(`(${l})::float8 ${sqlOp(cond.op)} ${scaled}`, cond.left, cond.right.operand);
      }
      const type = valueTypeFor(cond.left, literalType(cond.right));
      if ((type === 'text' || type === 'boolean') && cond.op !== '=' && cond.op !== '!=') {
        throw new ConditionCompileError(`${cond.op} is not defined on ${type} values`);
      }
      const left = cond.left;
      const zeroTest =
        left.kind === 'signal' && left.signal.kind === 'event_count' && ZERO_TESTS[cond.op] === cond.right && !(ref.subject === 'account' && left.signal.of === 'contact');
      const expr = zeroTest && left.kind === 'signal' && left.signal.kind === 'event_count' ? countForZeroTest(left.signal, ref, params, today) : operandSql(left, type, ref, params, today);
      return falseIfNull(`${cast(expr, type)} ${sqlOp(cond.op)} ${params.add(cond.right, sqlType(type))}`, left);
    }
    case 'occurred': {
      const of = cond.of;
      if (cond.withinDays !== undefined) {
        return `(${countForZeroTest({ kind: 'event_count', event: cond.event, days: cond.withinDays, of }, ref, params, today)} >= 1)`;
      }
      const since = signalExpr({ kind: 'days_since_last', event: cond.event, of }, ref, params, today);
      if (cond.sinceEntry) {
        if (!ref.enteredAt) throw new ConditionCompileError('"since entry" needs an enrollment (only in goals and steps)');
        return `COALESCE(${since} <= (${today} - (${ref.enteredAt} AT TIME ZONE 'UTC')::date), false)`;
      }
      return `(${since} IS NOT NULL)`;
    }
  }
}

const sqlOp = (op: CompareOp) => (op === '!=' ? '<>' : op);

/**
 * A predicate that is false where SQL says NULL. Over account and contact fields, `(p) IS
 * TRUE`: the planner estimates it from the column's statistics, where `COALESCE(p, false)`
 * gets a flat half — with that guess, a trigger statement whose audience is one account in
 * nine scanned every contact instead of the audience's accounts and their contacts by index.
 * Over signals, health and traits (computed, no statistics) the COALESCE stays: its flat half
 * keeps plans that expect many rows, where IS TRUE would guess a handful.
 */
function falseIfNull(predicate: string, ...operands: Operand[]): string {
  return operands.every((o) => o.kind === 'account' || o.kind === 'contact') ? `(${predicate}) IS TRUE` : `COALESCE(${predicate}, false)`;
}

function literalType(v: Scalar): ValueType {
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'text';
}

/** Fields have their own type; a trait takes the type of the literal it is compared with. */
function valueTypeFor(o: Operand, literal: ValueType): ValueType {
  const t = operandType(o);
  return t === 'trait' ? literal : t;
}

function sqlType(t: ValueType): string {
  return t === 'number' ? 'float8' : t === 'boolean' ? 'boolean' : t === 'date' ? 'date' : 'text';
}

function cast(expr: string, t: ValueType): string {
  return t === 'number' ? `(${expr})::float8` : expr;
}

function traitsColumn(o: Operand, ref: ConditionRef): string {
  if (o.kind === 'account_trait') return `${ref.accountRow}.traits`;
  return `${contactRow(ref)}.traits`;
}

function contactRow(ref: ConditionRef): string {
  if (ref.subject !== 'contact' || !ref.contactRow) throw new ConditionCompileError('contact fields need a contact subject');
  return ref.contactRow;
}

/** The SQL value of an operand, typed as `type` (traits are read only when their JSON type matches). */
export function operandSql(o: Operand, type: ValueType | undefined, ref: ConditionRef, params: SqlParams, today: string): string {
  switch (o.kind) {
    case 'account':
      if (!(o.field in ACCOUNT_FIELDS)) throw new ConditionCompileError(`unknown account field ${o.field}`);
      return `${ref.accountRow}.${o.field}`;
    case 'contact': {
      if (!(o.field in CONTACT_FIELDS)) throw new ConditionCompileError(`unknown contact field ${o.field}`);
      const row = contactRow(ref);
      if (o.field === 'consent') return `${row}.consent_marketing`;
      if (o.field === 'role' && ref.membershipRole) return `COALESCE(${ref.membershipRole}, ${row}.role)`;
      return `${row}.${o.field}`;
    }
    case 'account_trait':
    case 'contact_trait': {
      const col = traitsColumn(o, ref);
      const k = params.add(o.key, 'text');
      const json = type === 'number' ? 'number' : type === 'boolean' ? 'boolean' : 'string';
      const read = type === 'number' ? `(${col} ->> ${k})::float8` : type === 'boolean' ? `(${col} ->> ${k})::boolean` : `(${col} ->> ${k})`;
      return `(CASE WHEN jsonb_typeof(${col} -> ${k}) = '${json}' THEN ${read} END)`;
    }
    case 'health': {
      if (!(o.field in HEALTH_FIELDS)) throw new ConditionCompileError(`unknown health field ${o.field}`);
      const col = o.field === 'days_since_band_change' ? `${today} - (h.band_changed_at AT TIME ZONE 'UTC')::date` : `h.${o.field}`;
      return `(SELECT ${col} FROM account_health h WHERE h.account_id = ${ref.account})`;
    }
    case 'signal':
      if (ref.subject === 'account' && 'of' in o.signal && o.signal.of === 'contact') {
        throw new ConditionCompileError('a contact signal needs a contact subject');
      }
      return signalExpr(o.signal, ref, params, today);
  }
}
