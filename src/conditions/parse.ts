import { didYouMean } from '../common/suggest';
import { EngagementAction, Signal, SubjectKind } from '../signals/signal';
import {
  ACCOUNT_FIELDS,
  AccountField,
  CompareOp,
  Condition,
  CONTACT_FIELDS,
  ContactField,
  HEALTH_FIELDS,
  HealthField,
  Operand,
  operandType,
  Scalar,
} from './condition';
import { ConditionSyntaxError, Token, tokenize } from './tokenize';

export { ConditionSyntaxError };

/**
 * The readable textual form of a condition, e.g.
 *   account.phase = adoption and not account.high_touch and count(login, 14d) = 0
 * A parse error carries the character offset in the text so the journey loader can
 * report `file:line:col`.
 */
const FUNCTIONS = ['count', 'days_since_last', 'distinct_events', 'active_contacts', 'days_since_contract_start', 'days_until_renewal', 'opened', 'clicked', 'received', 'occurred'];
const ROOTS = ['account', 'contact', 'health', ...FUNCTIONS, 'not', 'true', 'false'];

export function parseCondition(src: string): Condition {
  return new Parser(src).parseAll();
}

const MAX_DEPTH = 100;

class Parser {
  private depth = 0;
  private toks: Token[];
  private i = 0;

  constructor(src: string) {
    this.toks = tokenize(src);
  }

  parseAll(): Condition {
    const c = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw this.error(t, `expected "and", "or" or the end, got "${t.text}"`);
    return c;
  }

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)];
  }
  private next(): Token {
    return this.toks[Math.min(this.i++, this.toks.length - 1)];
  }
  private isWord(w: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'word' && t.text === w;
  }
  private isPunct(p: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.text === p;
  }
  private expectPunct(p: string): Token {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== p) throw this.error(t, `expected "${p}", got "${t.text}"`);
    return t;
  }
  private error(t: Token, message: string): ConditionSyntaxError {
    return new ConditionSyntaxError(message, t.at);
  }

  private or(): Condition {
    const parts = [this.and()];
    while (this.isWord('or')) {
      this.next();
      parts.push(this.and());
    }
    return parts.length === 1 ? parts[0] : { type: 'any', of: parts };
  }

  private and(): Condition {
    const parts = [this.unary()];
    while (this.isWord('and')) {
      this.next();
      parts.push(this.unary());
    }
    return parts.length === 1 ? parts[0] : { type: 'all', of: parts };
  }

  private unary(): Condition {
    if (this.isWord('not') || this.isPunct('(')) {
      // The parser, the compiler and the evaluator recurse: a bounded depth keeps them off the stack limit.
      if (++this.depth > MAX_DEPTH) throw this.error(this.peek(), `conditions nest too deeply (more than ${MAX_DEPTH} levels of "not" and parentheses)`);
      try {
        if (this.next().text === 'not') return { type: 'not', of: this.unary() };
        const c = this.or();
        this.expectPunct(')');
        return c;
      } finally {
        this.depth--;
      }
    }
    if (this.isWord('true') || this.isWord('false')) return { type: 'const', value: this.next().text === 'true' };
    return this.predicate();
  }

  private predicate(): Condition {
    const start = this.peek();
    let scope: SubjectKind | undefined;
    if ((this.isWord('account') || this.isWord('contact')) && this.isPunct('.', 1) && this.isWord('occurred', 2)) {
      scope = this.next().text as SubjectKind;
      this.next();
    }
    if (this.isWord('occurred')) return this.occurred(scope);
    const left = this.operand();
    const t = this.peek();
    if (t.kind === 'op') {
      this.next();
      const op = (t.text === '==' ? '=' : t.text) as CompareOp;
      return this.compare(left, op, start);
    }
    if (this.isWord('in') || (this.isWord('not') && this.isWord('in', 1))) {
      const negate = this.next().text === 'not';
      if (negate) this.next();
      const values = this.list().map((v) => this.literalFor(left, v.value, v.tok));
      const c: Condition = { type: 'in', left, values };
      return negate ? { type: 'not', of: c } : c;
    }
    if (this.isWord('is')) {
      this.next();
      const negate = this.isWord('not') ? (this.next(), true) : false;
      const s = this.next();
      if (s.kind !== 'word' || s.text !== 'set') throw this.error(s, `expected "set" after "is${negate ? ' not' : ''}"`);
      const c: Condition = { type: 'present', operand: left };
      return negate ? { type: 'not', of: c } : c;
    }
    // A boolean field on its own reads as "is true": `account.high_touch`, `contact.consent`.
    if (operandType(left) === 'boolean') return { type: 'compare', left, op: '=', right: true };
    throw this.error(t, `expected a comparison (=, !=, <, <=, >, >=, in, is set) after ${start.text}…, got "${t.text}"`);
  }

  private compare(left: Operand, op: CompareOp, start: Token): Condition {
    const t = this.peek();
    const type = operandType(left);
    const rightIsOperand = t.kind === 'word' && (ROOTS.includes(t.text) || FUNCTIONS.includes(t.text)) && !['true', 'false', 'not'].includes(t.text);
    if (rightIsOperand && (type === 'number' || this.isPunct('.', 1) || this.isPunct('(', 1))) {
      const right = this.operand();
      if (type !== 'number' || operandType(right) !== 'number') throw this.error(t, 'only numbers can be compared with another value');
      let factor: number | undefined;
      if (this.isPunct('*')) {
        this.next();
        const f = this.next();
        if (f.kind !== 'num') throw this.error(f, 'expected a number after "*"');
        factor = f.value as number;
      }
      return { type: 'compare', left, op, right: { operand: right, ...(factor === undefined ? {} : { factor }) } };
    }
    const v = this.literal();
    const right = this.literalFor(left, v.value, v.tok);
    if ((type === 'text' || type === 'boolean' || (type === 'trait' && typeof right !== 'number')) && op !== '=' && op !== '!=') {
      throw this.error(start, `"${op}" needs numbers or dates; ${type === 'trait' ? 'this trait is compared as text' : `this field is ${type}`} (use = or !=)`);
    }
    return { type: 'compare', left, op, right };
  }

  private literal(): { value: Scalar; tok: Token } {
    const t = this.next();
    if (t.kind === 'num') return { value: t.value as number, tok: t };
    if (t.kind === 'str') return { value: t.value as string, tok: t };
    if (t.kind === 'word') return { value: t.text === 'true' ? true : t.text === 'false' ? false : t.text, tok: t };
    throw this.error(t, `expected a value, got "${t.text}"`);
  }

  private list(): { value: Scalar; tok: Token }[] {
    this.expectPunct('[');
    const out: { value: Scalar; tok: Token }[] = [];
    while (!this.isPunct(']')) {
      out.push(this.literal());
      if (!this.isPunct(']')) this.expectPunct(',');
    }
    this.next();
    if (!out.length) throw this.error(this.peek(-1), 'empty list');
    return out;
  }

  /** Checks a literal against the operand's type (traits accept any JSON type). */
  private literalFor(left: Operand, v: Scalar, tok: Token): Scalar {
    const type = operandType(left);
    if (type === 'number' && typeof v !== 'number') throw this.error(tok, `expected a number, got "${tok.text}"`);
    if (type === 'boolean' && typeof v !== 'boolean') throw this.error(tok, `expected true or false, got "${tok.text}"`);
    if (type === 'date') {
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v + 'T00:00:00Z')) || new Date(v + 'T00:00:00Z').toISOString().slice(0, 10) !== v) {
        throw this.error(tok, `expected a date YYYY-MM-DD, got "${tok.text}"`);
      }
    }
    if (type === 'text') return String(v);
    return v;
  }

  private word(what: string): Token {
    const t = this.next();
    if (t.kind !== 'word' && t.kind !== 'str') throw this.error(t, `expected ${what}, got "${t.text}"`);
    return t;
  }

  private operand(): Operand {
    const kw = this.peek();
    if (kw.kind === 'word' && ['and', 'or', 'in', 'is'].includes(kw.text)) throw this.error(kw, `expected a field or signal, got "${kw.text}"`);
    const t = this.word('a field or signal (account.…, contact.…, health.…, count(…), …)');
    const name = t.text;
    if ((name === 'account' || name === 'contact') && this.isPunct('.')) {
      this.next();
      const f = this.word(`a ${name} field`);
      if (f.text === 'trait' || f.text === 'traits') {
        this.expectPunct('.');
        const key = this.word('a trait name');
        return { kind: name === 'account' ? 'account_trait' : 'contact_trait', key: String(key.value) };
      }
      if (FUNCTIONS.includes(f.text) && this.isPunct('(')) return this.signalOperand(f, name);
      const fields = name === 'account' ? ACCOUNT_FIELDS : CONTACT_FIELDS;
      if (!(f.text in fields)) {
        throw this.error(f, `unknown ${name} field "${f.text}"${didYouMean(f.text, [...Object.keys(fields), 'trait'])}; traits are ${name}.trait.NAME`);
      }
      return name === 'account' ? { kind: 'account', field: f.text as AccountField } : { kind: 'contact', field: f.text as ContactField };
    }
    if (name === 'health') {
      this.expectPunct('.');
      const f = this.word('a health field');
      if (!(f.text in HEALTH_FIELDS)) throw this.error(f, `unknown health field "${f.text}"${didYouMean(f.text, Object.keys(HEALTH_FIELDS))}`);
      return { kind: 'health', field: f.text as HealthField };
    }
    if (FUNCTIONS.includes(name) && name !== 'occurred') return this.signalOperand(t, undefined);
    throw this.error(t, `unknown field or signal "${name}"${didYouMean(name, ROOTS)}`);
  }

  private days(): number {
    const t = this.next();
    const m = t.kind === 'word' ? /^(\d+)d$/.exec(t.text) : null;
    if (m) return Number(m[1]);
    if (t.kind === 'num' && Number.isInteger(t.value) && (this.isWord('d') || this.isWord('days') || this.isWord('day'))) {
      this.next();
      return t.value as number;
    }
    throw this.error(t, `expected a number of days like 14d, got "${t.text}"`);
  }

  private positiveDays(): number {
    const at = this.peek();
    const d = this.days();
    if (d < 1 || d > 3650) throw this.error(at, 'a window is 1 to 3650 days');
    return d;
  }

  private eventName(): string {
    return String(this.word('an event name').value);
  }

  private signalOperand(fn: Token, scope: SubjectKind | undefined): Operand {
    const of = scope ? { of: scope } : {};
    const name = fn.text;
    if (name === 'days_since_contract_start' || name === 'days_until_renewal') {
      if (scope === 'contact') throw this.error(fn, `${name} is an account signal`);
      return { kind: 'signal', signal: { kind: name } };
    }
    this.expectPunct('(');
    let signal: Signal;
    if (name === 'count') {
      const event = this.eventName();
      this.expectPunct(',');
      const days = this.positiveDays();
      signal = { kind: 'event_count', event, days, ...this.offset(), ...of };
    } else if (name === 'days_since_last') {
      signal = { kind: 'days_since_last', event: this.eventName(), ...of };
    } else if (name === 'distinct_events') {
      const days = this.positiveDays();
      let events: string[] | undefined;
      if (this.isPunct(',') && this.isPunct('[', 1)) {
        this.next();
        events = this.list().map((v) => String(v.value));
      }
      signal = { kind: 'distinct_events', days, ...(events ? { events } : {}), ...this.offset(), ...of };
    } else if (name === 'active_contacts') {
      if (scope === 'contact') throw this.error(fn, 'active_contacts is an account signal');
      const days = this.positiveDays();
      let event: string | undefined;
      if (this.isPunct(',') && !this.isWord('offset', 1)) {
        this.next();
        event = this.eventName();
      }
      signal = { kind: 'active_contacts', days, ...(event ? { event } : {}), ...this.offset() };
    } else {
      const days = this.positiveDays();
      const extra: { template?: string; journey?: string; includeMachine?: boolean } = {};
      while (this.isPunct(',')) {
        this.next();
        const k = this.word('template=NAME, journey=KEY or machine');
        if (k.text === 'machine') extra.includeMachine = true;
        else if (k.text === 'template' || k.text === 'journey') {
          // `=` rather than `:` so the text stays a plain YAML scalar (": " would start a mapping).
          const eq = this.next();
          if (eq.kind !== 'op' || eq.text !== '=') throw this.error(eq, `expected "=" after ${k.text}, as in ${k.text}=NAME`);
          extra[k.text] = String(this.word(`a ${k.text} name`).value);
        } else throw this.error(k, `unknown option "${k.text}"${didYouMean(k.text, ['template', 'journey', 'machine'])}`);
      }
      signal = { kind: 'engagement', action: name as EngagementAction, days, ...extra, ...of };
    }
    this.expectPunct(')');
    return { kind: 'signal', signal };
  }

  private offset(): { offsetDays?: number } {
    if (!(this.isPunct(',') && this.isWord('offset', 1))) return {};
    this.next();
    this.next();
    const at = this.peek();
    const d = this.days();
    if (d > 3650) throw this.error(at, 'an offset is 0 to 3650 days');
    return { offsetDays: d };
  }

  private occurred(scope: SubjectKind | undefined): Condition {
    this.next();
    this.expectPunct('(');
    const event = this.eventName();
    const c: Condition = { type: 'occurred', event, ...(scope ? { of: scope } : {}) };
    if (this.isPunct(',')) {
      this.next();
      if (this.isWord('since')) {
        this.next();
        const e = this.next();
        if (e.text !== 'entry') throw this.error(e, 'expected "since entry"');
        c.sinceEntry = true;
      } else c.withinDays = this.positiveDays();
    }
    this.expectPunct(')');
    return c;
  }
}
