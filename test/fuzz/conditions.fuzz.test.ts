import fc from 'fast-check';
import { Condition, walkConditions, walkOperands } from '../../src/conditions/condition';
import { compileConditionSql, ConditionCompileError, ConditionRef } from '../../src/conditions/compile-sql';
import { ACCOUNT_REF, CONTACT_REF, SUBJECT_FROM } from '../../src/conditions/conditions.repository';
import { formatCondition } from '../../src/conditions/format';
import { ConditionSyntaxError, parseCondition } from '../../src/conditions/parse';
import { SqlParams } from '../../src/signals/sql-params';
import { createTestDatabase, TestDatabase } from '../support/db';

/**
 * The condition language under generated input. Text: any string either parses or fails
 * with a ConditionSyntaxError at an offset inside the text (nothing else is thrown). SQL:
 * every condition that parses compiles to SQL that runs on the real database, and every
 * string the author wrote (values, trait names, event names) travels as a bind parameter —
 * quotes, semicolons and comment markers never reach the SQL text, so injection is impossible.
 */
const HOSTILE = [
  "'", "''", '"', "'; DROP TABLE accounts; --", "x' OR '1'='1", '$1', '$$', "E'\\x00'", '\\', '--', '/*', '*/', ';', 'robert"); DELETE FROM contacts; --',
  'login', 'report_created', '', ' ', 'é', '日本', '🙂', '\u0000', 'null', 'true', '1e309', '-0', 'NaN',
];
const hostile = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
/** A string literal in the text syntax (the tokenizer's escapes: backslash then any character). */
const quoted = hostile.map((s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
const num = fc.oneof(fc.integer({ min: -5, max: 5 }).map(String), fc.constantFrom('0.5', '1e3', '99999999999999999999', '1e309', '-0', '3650', '00', '1.2.3'));
const days = fc.oneof(fc.constantFrom('1d', '7d', '14d', '30d', '3650d', '0d', '3651d', '99999999999d', '7 days', '1 day'), fc.nat(4000).map((n) => `${n}d`));
const field = fc.constantFrom(
  'account.phase', 'account.plan', 'account.mrr', 'account.seats', 'account.high_touch', 'account.renewal_date', 'account.name', 'account.nope',
  'contact.role', 'contact.consent', 'contact.locale', 'contact.email', 'health.score', 'health.band', 'health.previous_band', 'health.days_since_band_change',
);
const trait = fc.tuple(fc.constantFrom('account.traits.', 'contact.traits.'), fc.oneof(fc.constantFrom('industry', 'score', 'beta', 'a-b', '日本'), quoted)).map(([a, b]) => a + b);
const eventArg = fc.oneof(fc.constantFrom('login', 'report_created', 'export'), quoted);
const signal = fc.oneof(
  fc.tuple(eventArg, days).map(([e, d]) => `count(${e}, ${d})`),
  fc.tuple(eventArg, days, days).map(([e, d, o]) => `count(${e}, ${d}, offset ${o})`),
  eventArg.map((e) => `days_since_last(${e})`),
  fc.tuple(days, fc.array(eventArg, { maxLength: 3 })).map(([d, es]) => `distinct_events(${d}${es.length ? `, [${es.join(', ')}]` : ''})`),
  days.map((d) => `active_contacts(${d})`),
  fc.constantFrom('days_since_contract_start', 'days_until_renewal'),
  fc.tuple(fc.constantFrom('opened', 'clicked', 'received'), days, fc.constantFrom('', ', template=', ', journey=', ', machine'), quoted).map(([f, d, k, v]) => `${f}(${d}${k}${k.endsWith('=') ? v : ''})`),
);
const operand = fc.oneof(field, trait, signal);
const value = fc.oneof(quoted, num, fc.constantFrom('true', 'false', 'adoption', 'green', '2027-01-01', '"2027-01-01"'));
const op = fc.constantFrom('=', '!=', '<', '<=', '>', '>=', '==');
const leaf = fc.oneof(
  fc.tuple(operand, op, value).map(([a, o, v]) => `${a} ${o} ${v}`),
  fc.tuple(operand, op, operand, fc.constantFrom('', ' * 0.5', ' * 2')).map(([a, o, b, f]) => `${a} ${o} ${b}${f}`),
  fc.tuple(operand, fc.array(value, { minLength: 1, maxLength: 4 }), fc.boolean()).map(([a, vs, n]) => `${a} ${n ? 'not in' : 'in'} [${vs.join(', ')}]`),
  fc.tuple(operand, fc.constantFrom('is set', 'is not set')).map(([a, s]) => `${a} ${s}`),
  operand,
  fc.tuple(eventArg, fc.constantFrom('', ', 7d', ', since entry')).map(([e, w]) => `occurred(${e}${w})`),
);
const conditionText: fc.Arbitrary<string> = fc.letrec<{ c: string }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.tuple(tie('c'), fc.constantFrom(' and ', ' or '), tie('c')).map(([a, j, b]) => a + j + b),
    tie('c').map((c) => `not (${c})`),
    tie('c').map((c) => `(${c})`),
  ),
})).c;

/** Random edits of valid-looking text: deleted, duplicated or inserted characters. */
const mangled = fc.tuple(conditionText, fc.array(fc.record({ at: fc.nat(), del: fc.nat({ max: 4 }), ins: fc.oneof(fc.constantFrom('(', ')', '"', "'", ',', '[', ']', '.', '*', '\\', ' and', ' not', '='), fc.string({ maxLength: 3 })) }), { maxLength: 3 })).map(([t, es]) => {
  for (const e of es) {
    const at = e.at % (t.length + 1);
    t = t.slice(0, at) + e.ins + t.slice(at + e.del);
  }
  return t;
});

function parseOrPositionedError(text: string): Condition | undefined {
  try {
    return parseCondition(text);
  } catch (e) {
    if (!(e instanceof ConditionSyntaxError)) throw new Error(`parse threw ${(e as Error).stack} for ${JSON.stringify(text)}`);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > text.length || !e.message) throw new Error(`syntax error without a position (${e.offset}) for ${JSON.stringify(text)}`);
    return undefined;
  }
}

/** Every string an author wrote in the condition: values, trait keys, event, template and journey names. */
function authoredStrings(c: Condition): string[] {
  const out: string[] = [];
  for (const n of walkConditions(c)) {
    if (n.type === 'compare' && typeof n.right === 'string') out.push(n.right);
    if (n.type === 'in') out.push(...n.values.filter((v): v is string => typeof v === 'string'));
    if (n.type === 'occurred') out.push(n.event);
  }
  for (const o of walkOperands(c)) {
    if (o.kind === 'account_trait' || o.kind === 'contact_trait') out.push(o.key);
    if (o.kind === 'signal') {
      const s = o.signal as unknown as Record<string, unknown>;
      for (const k of ['event', 'journey', 'template']) if (typeof s[k] === 'string') out.push(s[k] as string);
      if (Array.isArray(s.events)) out.push(...(s.events as string[]));
    }
  }
  return out;
}

// Thousands of cases per property: generous for a loaded 2-core CI machine.
jest.setTimeout(300_000);

describe('condition language under generated input', () => {
  it('any text parses or fails with a syntax error at a position inside it', () => {
    fc.assert(
      fc.property(fc.oneof(conditionText, mangled, fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 60 })), (text) => {
        parseOrPositionedError(text);
      }),
      { numRuns: 10_000 },
    );
  });

  it('deeply nested text is refused or parsed, never a stack overflow', () => {
    for (const depth of [200, 2000, 20000]) {
      parseOrPositionedError(`${'('.repeat(depth)}occurred(login)${')'.repeat(depth)}`);
      parseOrPositionedError(`${'not '.repeat(depth)}occurred(login)`);
      parseOrPositionedError(Array(depth).fill('occurred(login)').join(' and '));
    }
  });

  describe('compiled SQL', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
      // A few rows with awkward traits, so every WHERE is evaluated on real values.
      const traits = [{ industry: "x' OR '1'='1", score: 3, beta: true, '日本': 'はい' }, { score: 'high', beta: 'yes', industry: null }, { nested: { a: 1 }, score: 1e300 }];
      for (const [i, t] of traits.entries()) {
        const [{ id }] = await db.query<{ id: string }>(`INSERT INTO accounts (external_id, name, phase, traits, created_at, updated_at) VALUES ($1, $1, 'adoption', $2, now(), now()) RETURNING id`, [`fz-${i}`, t]);
        await db.query(`INSERT INTO contacts (external_id, account_id, email, traits, created_at, updated_at) VALUES ($1, $2, $3, $4, now(), now())`, [`fz-c-${i}`, id, `fz${i}@example.com`, t]);
      }
    });
    afterAll(() => db.drop());

    it('every condition that parses compiles to SQL that runs; authored strings are only ever parameters', async () => {
      let ran = 0;
      await fc.assert(
        fc.asyncProperty(conditionText, fc.constantFrom<'account' | 'contact'>('account', 'contact'), async (text, subject) => {
          const cond = parseOrPositionedError(text);
          if (!cond) return;
          const params = new SqlParams(['2026-11-20']);
          const ref: ConditionRef = { ...(subject === 'account' ? ACCOUNT_REF : CONTACT_REF), enteredAt: `'2026-11-10T08:00:00Z'::timestamptz` };
          let where: string;
          try {
            where = compileConditionSql(cond, ref, params, 'p.today');
          } catch (e) {
            if (e instanceof ConditionCompileError) return; // e.g. contact data in an account condition: refused by name
            throw new Error(`compile threw ${(e as Error).stack} for ${text}`);
          }
          for (const s of authoredStrings(cond)) {
            if (s.length >= 4 && /['";\\]|--|\/\*/.test(s) && where.includes(s)) throw new Error(`authored string ${JSON.stringify(s)} reached the SQL text: ${where}`);
          }
          // The only quoted literals in compiled SQL are the compiler's own constants ('number', 'UTC', …).
          const literals = where.match(/'[^']*'/g) ?? [];
          if (literals.some((l) => !/^'[\w:,-]*'$/.test(l))) throw new Error(`a literal that is not the compiler's own in: ${where}`);
          if (/;|--|\/\*/.test(where)) throw new Error(`statement separator or comment in compiled SQL: ${where}`);
          const id = subject === 'account' ? 'a.id' : 'c.id';
          try {
            await db.query(`SELECT count(${id}) AS n FROM ${SUBJECT_FROM[subject]} CROSS JOIN (SELECT $1::date AS today) p WHERE ${where}`, params.values);
          } catch (e) {
            throw new Error(`SQL failed (${(e as Error).message}) for ${subject}: ${text}\n  as ${formatCondition(cond)}\n  ${where}\n  ${JSON.stringify(params.values)}`);
          }
          ran++;
        }),
        { numRuns: 2500 },
      );
      expect(ran).toBeGreaterThan(500); // most generated conditions are valid: the property is not vacuous
      const [{ n }] = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM accounts`);
      expect(n).toBe('3'); // nothing was dropped or deleted
    }, 300_000);
  });
});
