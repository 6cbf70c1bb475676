/** The condition language: AST, textual syntax, SQL compiler, in-memory evaluator, facts. */
export * from './condition';
export { compileConditionSql, ConditionCompileError, operandSql } from './compile-sql';
export type { ConditionRef } from './compile-sql';
export { evaluateCondition, operandValue } from './evaluate';
export type { Evaluation } from './evaluate';
export * from './facts';
export { formatCondition, formatOperand, formatSignal } from './format';
export { ConditionSyntaxError, parseCondition } from './parse';
