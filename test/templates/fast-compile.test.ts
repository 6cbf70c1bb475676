import * as path from 'node:path';
import { normalizeText, renderFunction } from '../../src/templates/compile';
import { escapeHtml } from '../../src/templates/escape';
import { fastCompile, Unsupported } from '../../src/templates/fast-compile';
import { createHandlebars, fastRenderer, KNOWN_HELPERS, RenderData } from '../../src/templates/helpers';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { RenderContext, sampleContext } from '../../src/templates/render-context';
import { ROOT } from '../support/app';
import { engineFor, KEY_FEATURES, NOW, SENDER } from './fixtures';

/**
 * The render path compiles Handlebars' parse tree itself (fast-compile.ts). These tests hold
 * it to Handlebars: the same source, context and data frame must give the same string as
 * Handlebars' own compiled template, for every shipped template and for each construct.
 */
const hb = createHandlebars();
const OPTIONS = { knownHelpers: KNOWN_HELPERS, knownHelpersOnly: true } as const;

const FEATURES: RenderData['features'] = { mail_sent: { url: 'https://x.example/m?a=1&b=2', names: { en: { name: 'Mail <sending>' }, ja: { name: 'メール配信' } } } };

function frame(locale = 'en', timezone = 'Asia/Tokyo', preheader = 'pre<h>', features = FEATURES): Record<string, unknown> {
  const tl: RenderData = { locale, timezone, links: new PreviewLinkBuilder(undefined, 'r1'), features, defaultLocale: 'ja', memo: new Map() };
  return { tl, preheader };
}

/** Both renderers on the same input; each gets its own (equal) data frame. */
function both(source: string, context: object, noEscape = false, locale = 'en') {
  const options = { ...OPTIONS, ...(noEscape ? { noEscape: true } : {}) };
  const reference = fastRenderer(hb, hb.compile(source, options))(context, frame(locale));
  const fast = fastCompile(hb, hb.parse(source), options)(context, frame(locale));
  return { reference, fast };
}

const data = {
  name: `<script>alert("x")</script> & 'quotes' \`=`,
  zero: 0,
  no: false,
  empty: '',
  nothing: null,
  list: ['a', '<b>', 'c'],
  none: [],
  obj: { x: 1, y: 'two', nested: { deep: '<d>' } },
  items: [{ key: 'mail_sent', n: 0 }, { key: 'other', n: 1 }, { key: 'mail_sent', n: 1234567 }],
  lambda(this: { name?: string }) {
    return `called:${typeof this}`;
  },
  when: '2026-11-20T20:30:00Z',
  day: '2027-03-31',
  amount: 1234.5,
  map: new Map([
    ['k1', 'v1'],
    ['k2', 'v2'],
  ]),
  sparse: [1, , 3], // eslint-disable-line no-sparse-arrays
  traits: { plan: 'gold' },
};

const CASES: string[] = [
  '{{name}}|{{{name}}}|{{&name}}',
  '[{{zero}}][{{no}}][{{empty}}][{{nothing}}][{{missing}}][{{missing.deeper.still}}][{{obj.nested.deep}}][{{obj.x.y}}]',
  '{{#if zero}}Z{{else}}z{{/if}}{{#if zero includeZero=true}}Z{{else}}z{{/if}}{{#if none}}N{{else}}n{{/if}}{{#if obj}}O{{/if}}{{#if empty}}E{{else if list}}L{{else}}-{{/if}}',
  '{{#unless no}}U{{else}}u{{/unless}}{{#unless list}}x{{else}}y{{/unless}}',
  '{{#each list}}{{@index}}:{{this}}:{{@key}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}},{{else}}empty{{/each}}',
  '{{#each none}}x{{else}}empty:{{name}}{{/each}}{{#each obj}}{{@key}}={{this}}{{#if @last}}!{{/if}};{{/each}}{{#each map}}{{this}}{{@index}}{{/each}}{{#each sparse}}{{@index}}{{this}}{{/each}}',
  '{{#each items}}{{featureName key}}/{{featureUrl key}}:{{#if (gt n 0)}}{{plural n one="# time" other="# times"}}{{else}}never{{/if}}|{{@root.name}}{{/each}}',
  '{{#with obj}}{{x}}-{{y}}-{{nested.deep}}{{else}}none{{/with}}{{#with nothing}}a{{else}}b{{/with}}{{#with obj.nested}}{{deep}}{{/with}}',
  '{{lambda}}|{{this.name}}|{{./zero}}|{{@root.obj.x}}|{{@preheader}}|{{@tl.locale}}|{{@missing.x}}',
  '{{! a comment }}a{{!-- {{not}} a block --}}b',
  '  {{~name~}}  \n{{#if list}}\n  standalone\n{{/if}}\n  end {{~#each list~}} {{this}} {{~/each~}} .',
  '{{join (range 1 4) "-"}} {{default missing "fallback"}} {{default zero "fb"}} {{length list}} {{length name}} {{#if (and list (not none) (or zero obj))}}logic{{/if}} {{#if (includes list "c" "q")}}inc{{/if}} {{#if (eq obj.x 1)}}eq{{/if}}',
  '{{formatDate when}} / {{formatDate when "datetime"}} / {{formatDate day}} / {{formatDate day "datetime"}} / {{formatDate nothing}} / {{formatNumber amount}} / {{formatNumber zero "percent"}} / {{formatCurrency amount "USD"}} / {{formatCurrency nothing}}',
  '<a href="{{track "https://a.example/x?y=1&z=2" "cta"}}">{{track "https://a.example/x?y=1&z=2" "cta"}}</a> {{unsubscribe}} {{preferences}} {{survey "nps" 7}} {{openPixel}}',
  '{{#__partial url="https://p.example" label="p" text=name}}[{{url}}|{{label}}|{{text}}|{{zero}}|{{obj.x}}]{{/__partial}}{{#__partial}}{{name}}{{/__partial}}',
  '{{{zero}}}{{{amount}}}-{{#each sparse}}{{@index}}{{this}}{{/each}}-{{#each list}}{{{@index}}}{{{@first}}}{{/each}}',
  // The same helper call sites many times over, nested in partials and loops (one options object per call site).
  '{{#each items}}{{#__partial n=n label=key}}{{plural n one="# x" other="# xs"}}/{{#__partial}}{{featureName label}}:{{formatNumber n}}{{/__partial}}{{#if (gt n 0)}}+{{else}}-{{/if}}{{/__partial}};{{/each}}{{#__partial}}{{#each list}}{{#__partial v=this}}{{v}}{{@index}}{{/__partial}}{{/each}}{{/__partial}}',
  '[{{constructor}}][{{__proto__}}][{{obj.constructor}}][{{obj.__proto__}}][{{traits.toString}}][{{name.length}}][{{list.length}}][{{obj.hasOwnProperty}}][{{#with traits}}{{constructor.name}}{{/with}}]',
];

describe('fast compile: output identical to Handlebars', () => {
  it.each(CASES)('%s', (source) => {
    for (const noEscape of [false, true]) {
      for (const locale of ['en', 'ja']) {
        const { reference, fast } = both(source, data, noEscape, locale);
        expect(fast).toBe(reference);
      }
    }
  });

  it('escapes by default and only then: a <script> name is text in HTML, as written in the text part', () => {
    const html = fastCompile(hb, hb.parse('<p>{{name}}</p>'), OPTIONS)(data, frame());
    expect(html).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quotes&#x27; &#x60;&#x3D;</p>');
    const text = fastCompile(hb, hb.parse('{{name}}'), { ...OPTIONS, noEscape: true })(data, frame());
    expect(text).toBe(data.name);
  });

  it('escapes every kind of value exactly as Handlebars escapeExpression', () => {
    const escapeExpression = hb.Utils.escapeExpression as (v: unknown) => string;
    const values: unknown[] = ['', 'plain', '佐藤 健太', '&<>"\'`=', 'a=b&c=d', '=x', 'x=', '&&', 'https://x.example/u?r=1&t=2#a', 'あ<い>う', data.name];
    values.push(0, -0, 1, -1.5, 1234567.891, 1e21, 1e-7, NaN, Infinity, -Infinity, true, false, null, undefined, [], ['<a>', 1], {}, { toHTML: () => '<b>' }, new hb.SafeString('<i>'));
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = ['&', '<', '>', '"', "'", '`', '=', 'a', ' ', '漢', 'é'];
    for (let i = 0; i < 3000; i++) {
      let t = '';
      for (let k = Math.floor(next() * 12); k > 0; k--) t += alphabet[Math.floor(next() * alphabet.length)];
      values.push(t);
    }
    for (const v of values) expect(escapeHtml(v)).toBe(escapeExpression(v));
  });

  it('keeps prototype members out of reach, as Handlebars does', () => {
    const render = fastCompile(hb, hb.parse('[{{traits.constructor}}][{{traits.__proto__}}][{{traits.plan}}][{{fn.constructor}}]'), OPTIONS);
    const context = { traits: Object.assign(Object.create({ inherited: 'no' }), { plan: 'gold' }), fn: function f() {} };
    expect(render(context, frame())).toBe('[][][gold][]');
    expect(fastCompile(hb, hb.parse('{{traits.inherited}}'), OPTIONS)(context, frame())).toBe('');
  });

  it('leaves what it does not compile to Handlebars, with the same output', () => {
    for (const source of ['{{#each list}}{{../name}}{{/each}}', '{{#each list as |item|}}{{item}}{{/each}}', '{{"literal"}}']) {
      expect(() => fastCompile(hb, hb.parse(source), OPTIONS)).toThrow(Unsupported);
      const reference = fastRenderer(hb, hb.compile(source, OPTIONS))(data, frame());
      expect(renderFunction(hb, source, false)(data, frame())).toBe(reference);
    }
  });
});

describe('fast compile: shipped templates', () => {
  const engine = engineFor(path.join(ROOT, 'templates'), 60_000);

  function contexts(locale: string): RenderContext[] {
    const out: RenderContext[] = [];
    for (let i = 0; i < 12; i++) {
      const c = sampleContext({ locale, sender: SENDER, keyFeatures: KEY_FEATURES, now: NOW, csm: i % 2 ? { name: `CSM <${i}>`, email: 'csm@example.com', title: i % 4 === 1 ? 'Lead' : undefined } : null });
      c.contact = { ...c.contact, name: i === 3 ? '<script>alert(1)</script>' : `${c.contact.name} ${i}`, timezone: ['Asia/Tokyo', 'America/New_York', 'Europe/London'][i % 3] };
      c.account = { ...c.account, plan: ['starter', 'growth', 'business', 'enterprise', null][i % 5], seats: i % 4 ? 10 + i : null };
      c.signals = {
        ...c.signals,
        daysSinceLastLogin: i % 5 ? i * 3 : null,
        accountLogins30d: i * 37,
        accountLoginsPrev30d: 100,
        seatUtilization: i % 4 ? (i * 13) % 101 : null,
        unusedFeatures: i % 3 ? c.signals.unusedFeatures : [],
        keyFeatureUsage: c.signals.keyFeatureUsage.map((u, k) => ({ ...u, count30d: (i + k) % 3 ? (i * (k + 3)) % 120 : 0 })),
      };
      out.push(c);
    }
    return out;
  }

  it('every part of every template takes the fast path and renders exactly as Handlebars would', async () => {
    for (const name of await engine.names()) {
      const compiled = await engine.get(name);
      for (const loc of compiled.locales.values()) {
        for (const [part, noEscape] of [['subject', true], ['preheader', true], ['html', false], ['text', true]] as const) {
          const source = loc.sources[part];
          const options = { ...OPTIONS, ...(noEscape ? { noEscape: true } : {}) };
          expect(() => fastCompile(hb, hb.parse(source), options)).not.toThrow();
          const reference = fastRenderer(hb, hb.compile(source, options));
          for (const c of contexts(loc.locale)) {
            const tz = c.contact.timezone;
            expect(loc[part](c, frame(loc.locale, tz, 'pre', compiled.features))).toBe(reference(c, frame(loc.locale, tz, 'pre', compiled.features)));
          }
        }
      }
    }
  });
});

describe('text part whitespace', () => {
  /** The rule as first written: two regex passes over the whole text. */
  const reference = (t: string) => t.replace(/[ \t]*\n[ \t]*/g, '\n').replace(/\n{3,}/g, '\n\n');

  it('normalizeText gives what the two regex passes give', () => {
    for (const t of ['', 'a', '\n', ' \n ', 'a \t\n\t b', 'a\n\n\nb', 'a\n \n \n \nb', ' \n\n', 'x  \n', '\n  x', 'a\r\n\r\nb', 'あ　\n　い', 'a\n\nb\n\n\n\nc  ']) {
      expect(normalizeText(t)).toBe(reference(t));
    }
    // Random texts over the characters that matter.
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = [' ', '\t', '\n', 'a', 'é', '漢', '\r'];
    for (let i = 0; i < 5000; i++) {
      let t = '';
      const len = Math.floor(next() * 40);
      for (let k = 0; k < len; k++) t += alphabet[Math.floor(next() * alphabet.length)];
      expect(normalizeText(t)).toBe(reference(t));
    }
  });
});
