import { Signal } from '../signals/signal';
import { Condition, isOperandRight, Operand, Scalar } from './condition';

/**
 * The textual form of conditions (the same syntax `parseCondition` reads), used in
 * explanations, simulate reports and the engine's history.
 */
export function formatCondition(c: Condition): string {
  switch (c.type) {
    case 'const':
      return String(c.value);
    case 'all':
      if (c.of.length === 1) return formatCondition(c.of[0]);
      return c.of.length ? c.of.map((x) => wrap(x, 'all')).join(' and ') : 'true';
    case 'any':
      if (c.of.length === 1) return formatCondition(c.of[0]);
      return c.of.length ? c.of.map((x) => wrap(x, 'any')).join(' or ') : 'false';
    case 'not':
      return `not ${wrap(c.of, 'not')}`;
    case 'present':
      return `${formatOperand(c.operand)} is set`;
    case 'in':
      return `${formatOperand(c.left)} in [${c.values.map(formatScalar).join(', ')}]`;
    case 'compare': {
      const r = isOperandRight(c.right)
        ? `${formatOperand(c.right.operand)}${c.right.factor === undefined ? '' : ` * ${c.right.factor}`}`
        : formatScalar(c.right);
      return `${formatOperand(c.left)} ${c.op} ${r}`;
    }
    case 'occurred': {
      const when = c.withinDays !== undefined ? `, ${c.withinDays}d` : c.sinceEntry ? ', since entry' : '';
      return `${c.of ? c.of + '.' : ''}occurred(${word(c.event)}${when})`;
    }
  }
}

function wrap(c: Condition, parent: 'all' | 'any' | 'not'): string {
  while ((c.type === 'all' || c.type === 'any') && c.of.length === 1) c = c.of[0];
  const s = formatCondition(c);
  const compound = (c.type === 'all' && c.of.length > 1) || (c.type === 'any' && c.of.length > 1);
  return compound && (parent === 'not' || c.type !== parent) ? `(${s})` : s;
}

export function formatOperand(o: Operand): string {
  switch (o.kind) {
    case 'account':
      return `account.${o.field}`;
    case 'contact':
      return `contact.${o.field}`;
    case 'account_trait':
      return `account.trait.${word(o.key)}`;
    case 'contact_trait':
      return `contact.trait.${word(o.key)}`;
    case 'health':
      return `health.${o.field}`;
    case 'signal':
      return formatSignal(o.signal);
  }
}

export function formatSignal(s: Signal): string {
  const of = 'of' in s && s.of ? `${s.of}.` : '';
  switch (s.kind) {
    case 'event_count':
      return `${of}count(${word(s.event)}, ${s.days}d${s.offsetDays ? `, offset ${s.offsetDays}d` : ''})`;
    case 'days_since_last':
      return `${of}days_since_last(${word(s.event)})`;
    case 'distinct_events':
      return `${of}distinct_events(${s.days}d${s.events?.length ? `, [${s.events.map(word).join(', ')}]` : ''}${s.offsetDays ? `, offset ${s.offsetDays}d` : ''})`;
    case 'active_contacts':
      return `active_contacts(${s.days}d${s.event ? `, ${word(s.event)}` : ''}${s.offsetDays ? `, offset ${s.offsetDays}d` : ''})`;
    case 'days_since_contract_start':
    case 'days_until_renewal':
      return s.kind;
    case 'engagement': {
      const by = [s.template ? `template=${word(s.template)}` : '', s.journey ? `journey=${word(s.journey)}` : '', s.includeMachine ? 'machine' : ''];
      return `${of}${s.action}(${[`${s.days}d`, ...by.filter(Boolean)].join(', ')})`;
    }
  }
}

export function formatScalar(v: Scalar): string {
  return typeof v === 'string' ? word(v) : String(v);
}

/** A bare word when it reads back as the same string, else a quoted string. */
function word(s: string): string {
  return /^[\p{L}_][\p{L}\p{N}_-]*$/u.test(s) && !RESERVED.has(s) ? s : JSON.stringify(s);
}

const RESERVED = new Set(['and', 'or', 'not', 'in', 'is', 'set', 'true', 'false', 'since', 'entry', 'offset']);
