import fc from 'fast-check';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { InvalidInput } from '../../src/common/errors';
import { parseTemplateFile, readSourceDir } from '../../src/templates/template-sources';
import { engineFor } from '../templates/fixtures';

/**
 * Template files under generated input: real templates with broken MJML, Handlebars syntax
 * errors, unknown variables, helpers and partials, and garbage front matter. Validation must
 * never crash: a bad template is refused with problems at `templates/<file>:<line>:<col>`
 * inside the file that holds the problem.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const REAL = readSourceDir(path.join(ROOT, 'templates'));
const BODIES = [...REAL.entries()].filter(([f]) => /^[^/]+\/(ja|en)\.mjml$/.test(f) && !/^(layouts|partials)\//.test(f)).map(([, t]) => t);
const NAME = 'fuzzed';

const lineCount = (text: string) => text.split('\n').length;

/** Each problem names a file of the set and a line:col inside it. */
function checkProblems(problems: { path: string; message: string }[], files: Map<string, string>, input: string): void {
  if (!problems.length) throw new Error(`refused without a problem:\n${input.slice(0, 1500)}`);
  for (const p of problems) {
    const m = /^templates\/(.+):(\d+):(\d+)$/.exec(p.path);
    const file = m ? files.get(m[1]) : undefined;
    if (!m || file === undefined || !p.message || Number(m[2]) < 1 || Number(m[2]) > lineCount(file) + 1 || Number(m[3]) < 1) {
      throw new Error(`problem without a real file:line:col: ${JSON.stringify(p)}\n${input.slice(0, 1500)}`);
    }
  }
}

const snippets = fc.constantFrom(
  '{{', '}}', '{{{', '}}}', '{{#if csm}}', '{{/if}}', '{{#each signals.unusedFeatures}}', '{{/each}}', '{{else}}', '{{/unless}}',
  '{{contact.nmae}}', '{{acount.name}}', '{{this.url}}', '{{../../x}}', '{{> buton}}', '{{> footer}}', '{{> }}', '{{shout contact.name}}',
  '{{track}}', '{{track "javascript:alert(1)"}}', '{{formatDate}}', '{{formatDate "x" "y" "z"}}', '{{lookup contact "__proto__"}}', '{{constructor.constructor}}',
  '{{!-- ', ' --}}', '{{!', '<mj-text>', '</mj-text>', '<mj-txt>', '</mj-column>', '<mj-section>', '</mj-section>', '<mj-raw>', '<mj-include path="/etc/passwd" />',
  '<mj-image src="x">', '<', '>', '"', "'", '&', '\u0000', '\n', '---\n', '<mjml>', '</mjml>', '<!-- ', ' -->', '<![CDATA[', 'é', '🙂',
);
const edit = fc.record({ at: fc.nat(), del: fc.nat({ max: 12 }), insert: fc.oneof({ weight: 4, arbitrary: snippets }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }) });

function applyEdits(text: string, edits: { at: number; del: number; insert: string }[]): string {
  let t = text;
  for (const e of edits) {
    const at = e.at % (t.length + 1);
    t = t.slice(0, at) + e.insert + t.slice(at + e.del);
  }
  return t;
}

const frontMatterValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('marketing', 'operational', 'promo', '{{contact.nmae}}', '"a "b" c"', '&a', '*a', '!!js/function x', 1e308, -0, null),
);
const frontMatter = fc.oneof(
  fc.dictionary(fc.constantFrom('subject', 'preheader', 'category', 'layout', 'variables', 'description', 'layuot', 'x', ''), frontMatterValue, { maxKeys: 7 }).map((o) => stringify(o)),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 120 }),
);

// Thousands of cases per property: generous for a loaded 2-core CI machine.
jest.setTimeout(300_000);

describe('template validation under generated input', () => {
  let version = 0;
  const engine = engineFor(path.join(ROOT, 'templates'));

  async function validate(files: Record<string, string>, input: string): Promise<void> {
    const set = new Map(REAL);
    for (const [f, t] of Object.entries(files)) set.set(f, t);
    try {
      await engine.fromSources(`fuzz-${++version}`, NAME, Object.fromEntries(set));
    } catch (e) {
      if (!(e instanceof InvalidInput)) throw new Error(`validation crashed: ${(e as Error).stack}\n--- input ---\n${input.slice(0, 1500)}`);
      checkProblems(e.problems ?? [], set, input);
    }
  }

  it('real templates with random edits (MJML, Handlebars, variables, partials): refused at file:line:col, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BODIES), fc.array(edit, { minLength: 1, maxLength: 5 }), async (body, edits) => {
        const text = applyEdits(body, edits);
        await validate({ [`${NAME}/ja.mjml`]: text }, text);
      }),
      { numRuns: 400 },
    );
  }, 300_000);

  it('a broken partial or layout is reported in that file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('partials/button.mjml', 'partials/footer.ja.mjml', 'layouts/default.mjml'), fc.array(edit, { minLength: 1, maxLength: 4 }), async (file, edits) => {
        const text = applyEdits(REAL.get(file)!, edits);
        await validate({ [file]: text, [`${NAME}/ja.mjml`]: BODIES[0] }, `${file}:\n${text}`);
      }),
      { numRuns: 200 },
    );
  }, 300_000);

  it('garbage front matter: parsed or refused at a line of the file, never a crash', () => {
    fc.assert(
      fc.property(frontMatter, fc.constantFrom('', '<mj-section></mj-section>\n', '---\n'), fc.boolean(), (fm, body, closed) => {
        const text = `---\n${fm}${closed ? '\n---\n' : ''}${body}`;
        let r: ReturnType<typeof parseTemplateFile>;
        try {
          r = parseTemplateFile('t/ja.mjml', text);
        } catch (e) {
          throw new Error(`front matter parser threw ${(e as Error).stack}\n${text}`);
        }
        if (!r.ok) {
          if (!r.problems.length) throw new Error('refused without a problem');
          for (const p of r.problems) if (p.file !== 't/ja.mjml' || p.line < 1 || p.line > lineCount(text) + 1 || !p.message) throw new Error(`bad problem ${JSON.stringify(p)}\n${text}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a file of random bytes is refused with a position', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const text = Buffer.from(bytes).toString('utf8');
        const r = parseTemplateFile('t/en.mjml', text);
        if (!r.ok && !r.problems.every((p) => p.line >= 1 && p.line <= lineCount(text) + 1)) throw new Error(`bad position for ${JSON.stringify(text)}`);
      }),
      { numRuns: 2000 },
    );
  });
});
