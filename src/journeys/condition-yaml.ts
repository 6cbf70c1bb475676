import { didYouMean } from '../common/suggest';
import { allOf, Condition, walkConditions, walkOperands } from '../conditions/condition';
import { formatOperand } from '../conditions/format';
import { ConditionSyntaxError, parseCondition } from '../conditions/parse';
import { Signal } from '../signals/signal';
import { BUILTIN_EVENTS, PHASES, Segment } from './journey';
import { CONDITION_HINT, ConditionInput } from './journey.schema';
import { YamlSource } from './yaml-source';

/** What the authored files may refer to. `null` skips that check (e.g. no database at hand). */
export interface Catalog {
  templates: ReadonlySet<string> | null;
  events: ReadonlySet<string> | null;
  segments: ReadonlyMap<string, Segment>;
}

export type ConditionPlace = 'audience' | 'trigger' | 'goal' | 'step' | 'recipients' | 'segment';

export interface ConditionScope {
  src: YamlSource;
  catalog: Catalog;
  /** Whose data the condition reads: an account subject cannot read contact fields. */
  subject: 'account' | 'contact';
  place: ConditionPlace;
  /** Replaces `journey=self` in engagement signals. */
  journeyKey?: string;
  /** Segment names met on the way (cycles are refused). */
  segmentsUsed?: Set<string>;
}

const BANDS = ['green', 'yellow', 'red'];

/**
 * Converts a YAML condition (text, list, all/any/not/segment) to the AST, reporting every
 * problem at its file position. Returns undefined when anything was wrong.
 */
export function conditionFromYaml(input: ConditionInput, path: (string | number)[], scope: ConditionScope): Condition | undefined {
  const { src } = scope;
  if (typeof input === 'boolean') return { type: 'const', value: input };
  if (typeof input === 'string') {
    let cond: Condition;
    try {
      cond = parseCondition(input);
    } catch (e) {
      if (e instanceof ConditionSyntaxError) {
        src.problem(path, e.message, { offset: e.offset });
        return undefined;
      }
      throw e;
    }
    const before = src.problems.length;
    cond = checkCondition(cond, path, scope);
    return src.problems.length === before ? cond : undefined;
  }
  if (Array.isArray(input)) return combine(input.map((c, i) => conditionFromYaml(c, [...path, i], scope)), 'all');
  // Places that are not schema-checked (a goal's shorthand) can hand over anything: check the shape here.
  const keys = input !== null && typeof input === 'object' ? Object.keys(input) : [];
  const o = input as Record<string, unknown>;
  if (keys.length === 1 && (keys[0] === 'all' || keys[0] === 'any') && Array.isArray(o[keys[0]])) {
    const kind = keys[0] as 'all' | 'any';
    return combine((o[kind] as ConditionInput[]).map((c, i) => conditionFromYaml(c, [...path, kind, i], scope)), kind);
  }
  if (keys.length === 1 && keys[0] === 'not') {
    const inner = conditionFromYaml(o.not as ConditionInput, [...path, 'not'], scope);
    return inner && { type: 'not', of: inner };
  }
  if (keys.length === 1 && keys[0] === 'segment' && typeof o.segment === 'string') return segmentCondition(o.segment, [...path, 'segment'], scope);
  src.problem(path, CONDITION_HINT);
  return undefined;
}

function combine(parts: (Condition | undefined)[], type: 'all' | 'any'): Condition | undefined {
  if (parts.some((p) => p === undefined)) return undefined;
  const of = parts as Condition[];
  if (type === 'all') return allOf(...of);
  return of.length === 1 ? of[0] : { type: 'any', of };
}

function segmentCondition(name: string, path: (string | number)[], scope: ConditionScope): Condition | undefined {
  const seg = scope.catalog.segments.get(name);
  if (!seg) {
    scope.src.problem(path, `unknown segment "${name}"${didYouMean(name, scope.catalog.segments.keys())}`);
    return undefined;
  }
  if (seg.subject === 'contact' && scope.subject === 'account') {
    scope.src.problem(path, `segment "${name}" is a contact segment; this condition is evaluated per account`);
    return undefined;
  }
  scope.segmentsUsed?.add(name);
  return seg.condition;
}

/** Meaning checks on a parsed condition: names, values, what the place allows. */
function checkCondition(cond: Condition, path: (string | number)[], scope: ConditionScope): Condition {
  const { src, catalog } = scope;
  const report = (m: string) => src.problem(path, m);
  for (const o of walkOperands(cond)) {
    const readsContact = o.kind === 'contact' || o.kind === 'contact_trait' || (o.kind === 'signal' && 'of' in o.signal && o.signal.of === 'contact');
    if (readsContact && scope.subject === 'account') {
      report(`${formatOperand(o)} reads a contact, but this ${scope.place} is evaluated per account (use subject: contact, or recipients.where)`);
    }
    if (o.kind === 'signal') checkSignal(o.signal, scope, report);
  }
  for (const c of walkConditions(cond)) {
    if (c.type === 'occurred') {
      checkEvent(c.event, catalog, report);
      if (c.of === 'contact' && scope.subject === 'account') report(`contact.occurred(…) needs a contact subject`);
      if (c.sinceEntry && scope.place !== 'goal' && scope.place !== 'step') report(`"since entry" only makes sense in a goal or a step (the ${scope.place} is checked before entry)`);
    }
    if (c.type === 'compare' || c.type === 'in') {
      const values = c.type === 'in' ? c.values : typeof c.right === 'object' ? [] : [c.right];
      const known = c.left.kind === 'account' && c.left.field === 'phase' ? [...PHASES] : c.left.kind === 'health' && c.left.field.endsWith('band') ? BANDS : null;
      for (const v of known ? values : []) {
        if (!known!.includes(String(v))) report(`${formatOperand(c.left)} is never "${v}"${didYouMean(String(v), known!)}; it is one of ${known!.join(', ')}`);
      }
    }
  }
  return resolveSelf(cond, scope.journeyKey);
}

function checkSignal(s: Signal, scope: ConditionScope, report: (m: string) => void): void {
  const { catalog } = scope;
  if ('event' in s && s.event) checkEvent(s.event, catalog, report);
  if (s.kind === 'distinct_events') for (const e of s.events ?? []) checkEvent(e, catalog, report);
  if (s.kind === 'engagement') {
    if (s.template && catalog.templates && !catalog.templates.has(s.template)) {
      report(`unknown template "${s.template}"${didYouMean(s.template, catalog.templates)}`);
    }
    if (s.journey === 'self' && !scope.journeyKey) report('"journey=self" is only meaningful inside a journey');
    if (s.of === 'contact' && scope.subject === 'account') report(`contact.${s.action}(…) needs a contact subject`);
  }
}

export function checkEvent(event: string, catalog: Catalog, report: (m: string) => void): void {
  if (!catalog.events || catalog.events.has(event) || event in BUILTIN_EVENTS) return;
  report(`unknown event "${event}"${didYouMean(event, [...catalog.events, ...Object.keys(BUILTIN_EVENTS)])}`);
}

/** `journey=self` in engagement signals becomes the journey's key. */
function resolveSelf(c: Condition, key: string | undefined): Condition {
  if (!key) return c;
  const fix = (s: Signal): Signal => (s.kind === 'engagement' && s.journey === 'self' ? { ...s, journey: key } : s);
  const walk = (x: Condition): Condition => {
    switch (x.type) {
      case 'all':
      case 'any':
        return { ...x, of: x.of.map(walk) };
      case 'not':
        return { ...x, of: walk(x.of) };
      case 'compare': {
        const left = x.left.kind === 'signal' ? { ...x.left, signal: fix(x.left.signal) } : x.left;
        const right = typeof x.right === 'object' && x.right.operand.kind === 'signal' ? { ...x.right, operand: { ...x.right.operand, signal: fix(x.right.operand.signal) } } : x.right;
        return { ...x, left, right };
      }
      case 'in':
        return x.left.kind === 'signal' ? { ...x, left: { ...x.left, signal: fix(x.left.signal) } } : x;
      case 'present':
        return x.operand.kind === 'signal' ? { ...x, operand: { ...x.operand, signal: fix(x.operand.signal) } } : x;
      default:
        return x;
    }
  };
  return walk(c);
}
