import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { compileJourney, compileSegment } from '../../src/journeys/compile-journey';
import { loadJourneyFiles, templateNamesIn } from '../../src/journeys/journey-files';
import { YamlSource } from '../../src/journeys/yaml-source';

/**
 * Journey and segment files under generated input: valid sample files with random
 * mutations (values replaced, keys removed, unknown keys, huge numbers, deep nesting),
 * random text edits, random bytes and YAML alias bombs. The validator must never throw,
 * and an invalid file must yield at least one problem at a real file:line:col.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'journeys');
const loaded = loadJourneyFiles(DIR, { templates: templateNamesIn(path.join(ROOT, 'templates')), events: null, relativeTo: ROOT });
const catalog = { templates: templateNamesIn(path.join(ROOT, 'templates')), events: new Set(['login', 'report_created', 'export']), segments: new Map(loaded.segments.map((s) => [s.name, s])) };
const journeyTexts = loaded.files.filter((f) => !f.file.includes('segments/')).map((f) => fs.readFileSync(path.join(ROOT, f.file), 'utf8'));
const segmentTexts = loaded.files.filter((f) => f.file.includes('segments/')).map((f) => fs.readFileSync(path.join(ROOT, f.file), 'utf8'));

function check(file: string, text: string, kind: 'journey' | 'segment'): void {
  const src = new YamlSource(file, text);
  let result: unknown;
  try {
    result = kind === 'journey' ? compileJourney(src, catalog) : compileSegment(src, catalog.segments);
  } catch (e) {
    throw new Error(`validator threw ${(e as Error).stack}\n--- input ---\n${text.slice(0, 2000)}`);
  }
  if (!result && src.ok) throw new Error(`no result and no problem for:\n${text.slice(0, 2000)}`);
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const p of src.problems) {
    const bad = p.file !== file || !Number.isInteger(p.line) || !Number.isInteger(p.col) || p.line < 1 || p.col < 1 || p.line > lines + 1 || !p.message || typeof p.path !== 'string';
    if (bad) throw new Error(`problem without a real position: ${JSON.stringify(p)} (file has ${lines} lines)\n${text.slice(0, 2000)}`);
  }
}

const hugeNumber = fc.oneof(
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, -0, 1e-320, 0.1 + 0.2),
  fc.double({ noNaN: false }),
  fc.bigInt().map((b) => Number(b)),
);
const deep = fc.integer({ min: 20, max: 400 }).map((n) => {
  let v: unknown = 'x';
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v };
  return v;
});
const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'count(login, 99999999999999999999d) > 1', 'occurred(', '"unterminated', "a' OR '1'='1", '7d; DROP TABLE accounts', '{{x}}', '-1d', '0d', '1e400d', '∞', 'contact.', 'account.traits.', 'not not not'),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hugeNumber },
  { weight: 3, arbitrary: weirdString },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
);

type Mutation = { kind: 'set' | 'delete' | 'unknown'; pick: number; value: unknown; key: string };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('set', 'set', 'delete', 'unknown'),
  pick: fc.nat(),
  value: anyValue,
  key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('priorty', 'stpes', '__proto__', 'constructor', 'toString', '<<')),
});

/** Every container and leaf of a plain YAML value, with its parent and key. */
function slots(v: unknown, out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = []) {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i }), slots(x, out)));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push({ parent: v as Record<string, unknown>, key: k }), slots(x, out);
  return out;
}

function mutate(text: string, ms: Mutation[]): string {
  const doc = parse(text) as Record<string, unknown>;
  for (const m of ms) {
    const all = slots(doc);
    if (!all.length) break;
    const { parent, key } = all[m.pick % all.length];
    const p = parent as Record<string | number, unknown>;
    if (m.kind === 'set') p[key] = m.value;
    else if (m.kind === 'delete') Array.isArray(parent) ? parent.splice(key as number, 1) : delete p[key];
    else if (!Array.isArray(parent)) Object.defineProperty(p, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
  }
  return stringify(doc, { aliasDuplicateObjects: false });
}

const textEdit = fc.record({ at: fc.nat(), del: fc.nat({ max: 6 }), insert: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(':', '- ', '\n', '  ', '{', '[', '"', "'", '&a', '*a', '!!binary', '\t', '#', '|', '>', '---\n', '...')) });

// Thousands of cases per property: generous for a loaded 2-core CI machine.
jest.setTimeout(300_000);

describe('journey validation under generated input', () => {
  it('valid-shaped files with structural mutations: never throws, every problem at file:line:col', () => {
    fc.assert(
      fc.property(fc.constantFrom(...journeyTexts), fc.array(mutation, { minLength: 1, maxLength: 5 }), (text, ms) => check('journeys/fuzz/j.yaml', mutate(text, ms), 'journey')),
      { numRuns: 800 },
    );
  });

  it('segments with structural mutations', () => {
    fc.assert(
      fc.property(fc.constantFrom(...segmentTexts), fc.array(mutation, { minLength: 1, maxLength: 3 }), (text, ms) => check('journeys/segments/s.yaml', mutate(text, ms), 'segment')),
      { numRuns: 500 },
    );
  });

  it('random text edits of real files (broken indentation, stray quotes, anchors, tags)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...journeyTexts), fc.array(textEdit, { minLength: 1, maxLength: 6 }), (text, edits) => {
        let t = text;
        for (const e of edits) {
          const at = e.at % (t.length + 1);
          t = t.slice(0, at) + e.insert + t.slice(at + e.del);
        }
        check('journeys/fuzz/edit.yaml', t, 'journey');
      }),
      { numRuns: 800 },
    );
  });

  it('random bytes and arbitrary YAML documents', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
          fc.string({ unit: 'binary', maxLength: 300 }),
          anyValue.map((v) => stringify(v)),
        ),
        (text) => check('journeys/fuzz/bytes.yaml', text, 'journey'),
      ),
      { numRuns: 2000 },
    );
  });

  it('deep nesting and alias bombs are refused with a position, not a crash or a hang', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(',')}]`), 'key: bomb'].join('\n');
    const started = Date.now();
    check('journeys/fuzz/bomb.yaml', bomb, 'journey');
    expect(Date.now() - started).toBeLessThan(5000);
    for (const depth of [100, 1000, 5000]) {
      check('journeys/fuzz/deep.yaml', `key: deep\nsteps: ${'['.repeat(depth)}${']'.repeat(depth)}\n`, 'journey');
      check('journeys/fuzz/deep.yaml', `key: deep\naudience: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`, 'journey');
      check('journeys/fuzz/deep.yaml', `key: deep\ntrigger:\n  condition: ${'not ('.repeat(depth)}occurred(login)${')'.repeat(depth)}\n`, 'journey');
    }
  });
});
