import { Signal } from '../signals/signal';

/**
 * The condition language shared by audiences, triggers, goals, branches and waits.
 * One AST, two back ends: `compileConditionSql` (set-based, parameterised SQL) and
 * `evaluateCondition` (one subject, in memory, with an explanation). Both treat a
 * missing value (NULL) the same way: a predicate over a missing value is false, and
 * `not` of it is true (two-valued logic, so the back ends cannot drift apart).
 */
export type Condition =
  | { type: 'all'; of: Condition[] }
  | { type: 'any'; of: Condition[] }
  | { type: 'not'; of: Condition }
  | { type: 'const'; value: boolean }
  | CompareCondition
  | InCondition
  | PresentCondition
  | OccurredCondition;

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export interface CompareCondition {
  type: 'compare';
  left: Operand;
  op: CompareOp;
  /** A literal, or another numeric operand scaled by `factor` (usage vs the previous period). */
  right: Scalar | OperandRight;
}

export interface OperandRight {
  operand: Operand;
  factor?: number;
}

export interface InCondition {
  type: 'in';
  left: Operand;
  values: Scalar[];
}

/** The operand has a value (not NULL; for traits: the key exists and is not JSON null). */
export interface PresentCondition {
  type: 'present';
  operand: Operand;
}

/**
 * An event happened: ever, within the last N days, or since the subject entered the
 * journey (needs the enrollment's entry time: `ref.enteredAt` / `facts.enteredDay`).
 */
export interface OccurredCondition {
  type: 'occurred';
  event: string;
  of?: 'account' | 'contact';
  withinDays?: number;
  sinceEntry?: boolean;
}

export type Scalar = string | number | boolean;

export const ACCOUNT_FIELDS = {
  external_id: 'text',
  name: 'text',
  plan: 'text',
  mrr: 'number',
  seats: 'number',
  size_segment: 'text',
  region: 'text',
  phase: 'text',
  contract_start: 'date',
  renewal_date: 'date',
  csm_owner: 'text',
  high_touch: 'boolean',
  timezone: 'text',
  locale: 'text',
} as const;

/** `role` is the role in the account the subject is evaluated for (membership), else the contact's own. */
export const CONTACT_FIELDS = {
  external_id: 'text',
  email: 'text',
  name: 'text',
  role: 'text',
  locale: 'text',
  timezone: 'text',
  consent: 'boolean',
} as const;

export const HEALTH_FIELDS = {
  score: 'number',
  band: 'text',
  previous_score: 'number',
  previous_band: 'text',
  days_since_band_change: 'number',
} as const;

export type AccountField = keyof typeof ACCOUNT_FIELDS;
export type ContactField = keyof typeof CONTACT_FIELDS;
export type HealthField = keyof typeof HEALTH_FIELDS;
export type ValueType = 'text' | 'number' | 'boolean' | 'date';

export type Operand =
  | { kind: 'account'; field: AccountField }
  | { kind: 'account_trait'; key: string }
  | { kind: 'contact'; field: ContactField }
  | { kind: 'contact_trait'; key: string }
  | { kind: 'health'; field: HealthField }
  | { kind: 'signal'; signal: Signal };

/** The value type of an operand; traits take the type of the literal they are compared with. */
export function operandType(o: Operand): ValueType | 'trait' {
  switch (o.kind) {
    case 'account':
      return ACCOUNT_FIELDS[o.field];
    case 'contact':
      return CONTACT_FIELDS[o.field];
    case 'health':
      return HEALTH_FIELDS[o.field];
    case 'signal':
      return 'number';
    default:
      return 'trait';
  }
}

export function isOperandRight(r: Scalar | OperandRight): r is OperandRight {
  return typeof r === 'object' && r !== null;
}

/** Whether a condition reads contact data (then it cannot be evaluated for an account subject). */
export function usesContact(c: Condition): boolean {
  return walkOperands(c).some(
    (o) => o.kind === 'contact' || o.kind === 'contact_trait' || (o.kind === 'signal' && 'of' in o.signal && o.signal.of === 'contact'),
  ) || walkConditions(c).some((x) => x.type === 'occurred' && x.of === 'contact');
}

export function walkConditions(c: Condition): Condition[] {
  const out: Condition[] = [c];
  if (c.type === 'all' || c.type === 'any') for (const x of c.of) out.push(...walkConditions(x));
  if (c.type === 'not') out.push(...walkConditions(c.of));
  return out;
}

export function walkOperands(c: Condition): Operand[] {
  const out: Operand[] = [];
  for (const x of walkConditions(c)) {
    if (x.type === 'compare') {
      out.push(x.left);
      if (isOperandRight(x.right)) out.push(x.right.operand);
    } else if (x.type === 'in') out.push(x.left);
    else if (x.type === 'present') out.push(x.operand);
  }
  return out;
}

export const TRUE: Condition = { type: 'const', value: true };

export function allOf(...cs: (Condition | undefined)[]): Condition {
  const of = cs.filter((c): c is Condition => !!c && !(c.type === 'const' && c.value));
  return of.length === 0 ? TRUE : of.length === 1 ? of[0] : { type: 'all', of };
}
