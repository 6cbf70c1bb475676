import fc from 'fast-check';
import * as path from 'node:path';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { sampleContext } from '../../src/templates/render-context';
import { engineFor, KEY_FEATURES, NOW, SENDER } from '../templates/fixtures';

/**
 * HTML injection through data: every text value of the render context (contact and account
 * fields, traits, CSM, signals' names…) is replaced by an injection payload, and every real
 * template is rendered. The payload must come out as text: no tag, no attribute break-out,
 * no Handlebars re-evaluation. (Console pages: test/console/console.http.test.ts "escapes".)
 */
const ROOT = path.resolve(__dirname, '..', '..');
const PAYLOADS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onmouseover='alert(1)", '{{constructor.constructor}}', '</mj-text><mj-raw><script>x</script></mj-raw>', 'javascript:alert(1)'];

/** Replaces every string leaf (object values and array items) with a payload chosen by position. */
function poison(v: unknown, pick: () => string): unknown {
  if (typeof v === 'string') return pick();
  if (Array.isArray(v)) return v.map((x) => poison(x, pick));
  if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, poison(x, pick)]));
  return v;
}

describe('HTML injection in any context value renders as text in email', () => {
  const engine = engineFor(path.join(ROOT, 'templates'));

  it('every template, every locale, payloads in every text field', async () => {
    const names = await engine.names();
    expect(names.length).toBeGreaterThan(5);
    const compiled = await Promise.all(names.map((n) => engine.get(n)));
    await fc.assert(
      fc.asyncProperty(fc.nat(compiled.length - 1), fc.constantFrom('ja', 'en'), fc.infiniteStream(fc.constantFrom(...PAYLOADS)), async (i, locale, stream) => {
        const c = compiled[i];
        const it = stream[Symbol.iterator]();
        const base = sampleContext({ locale, sender: SENDER, keyFeatures: KEY_FEATURES, now: NOW, csm: { name: 'CSM', email: 'csm@example.com', title: 'CSM' } });
        const ctx = { ...(poison(base, () => it.next().value as string) as typeof base), sender: base.sender };
        const email = engine.renderCompiled(c, locale, ctx, new PreviewLinkBuilder());
        // The subject and the text part are plain text (a header, text/plain): only the HTML part is HTML.
        if (/<script>alert|<script>x|<img src=x|' onmouseover='|" onmouseover="/i.test(email.html)) throw new Error(`${c.name}/${locale}: a payload came out as HTML`);
        expect(email.html).not.toContain('[object Function]');
        expect(email.html).not.toMatch(/href="javascript:/i);
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
