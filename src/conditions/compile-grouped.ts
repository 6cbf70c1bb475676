import { GroupedSignals } from '../signals/signal-groups';
import { SqlParams } from '../signals/sql-params';
import { compileConditionSql, ConditionRef } from './compile-sql';
import { Condition, isOperandRight, Operand } from './condition';

/**
 * The set-based compile strategy, for statements that evaluate every subject at once
 * (condition, date and schedule triggers). Rollup signals come from one GROUP BY per
 * (owner, event) joined to the subjects (signal-groups.ts). Those relations only cover the
 * subjects that pass the condition's signal-free conjuncts (the audience's plan, phase,
 * consent…): a necessary condition, so the result is the same, and the planner can probe the
 * rollups per candidate when candidates are few or scan them when they are many.
 *
 * Returns the LEFT JOINs to append after `from` (which must define the rows `ref` names)
 * and the WHERE predicate. Proved equal to the in-memory evaluator, like the correlated
 * form, by test/conditions/sql-vs-memory.property.test.ts.
 */
export function compileGroupedConditionSql(cond: Condition, ref: ConditionRef, from: string, params: SqlParams, today: string): { joins: string; where: string } {
  const grouped = new GroupedSignals(params, today);
  const where = compileConditionSql(cond, { ...ref, grouped }, params, today);
  const pre = signalFreeConjuncts(cond);
  // Compiled only if a relation uses it (an unused bind parameter would have no type), and once.
  let only: string | undefined;
  const candidates = (owner: 'contact' | 'account', column: string) => {
    only ??= compileConditionSql({ type: 'all', of: pre }, ref, params, today);
    return `${column} IN (SELECT ${owner === 'contact' ? ref.contact : ref.account} FROM ${from} WHERE ${only})`;
  };
  return { joins: grouped.joins(ref, pre.length ? candidates : undefined), where };
}

/** The top-level conjuncts (through nested `all`) that read no usage signal: each is necessary for the whole. */
export function signalFreeConjuncts(c: Condition): Condition[] {
  if (c.type === 'all') return c.of.flatMap(signalFreeConjuncts);
  return readsSignals(c) ? [] : [c];
}

function readsSignals(c: Condition): boolean {
  switch (c.type) {
    case 'const':
      return false;
    case 'all':
    case 'any':
      return c.of.some(readsSignals);
    case 'not':
      return readsSignals(c.of);
    case 'occurred':
      return true;
    case 'present':
      return isSignal(c.operand);
    case 'in':
      return isSignal(c.left);
    case 'compare':
      return isSignal(c.left) || (isOperandRight(c.right) && isSignal(c.right.operand));
  }
}

const isSignal = (o: Operand) => o.kind === 'signal';
