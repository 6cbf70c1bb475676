import mjml2html from 'mjml';
import { compile as compileHtmlToText } from 'html-to-text';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHandlebars, RenderData } from '../../src/templates/helpers';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { RenderContext, sampleContext } from '../../src/templates/render-context';
import { RenderedEmail, TemplateEngine } from '../../src/templates/template-engine';
import { line, option, summary } from './report';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const KEY_FEATURES = ['report_created', 'dashboard_viewed', 'mail_sent', 'integration_connected', 'workflow_created', 'export_csv', 'user_invited'];
const SENDER = { name: 'Touchline Demo Co., Ltd.', email: 'success@touchline.example', address: '1-2-3 Marunouchi, Chiyoda-ku, Tokyo', contact: 'support@touchline.example' };
const FAMILY = ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村'];
const GIVEN = ['健太', '美咲', '大輔', '陽子', '翔', '彩', '拓也', '真由'];

/**
 * `npm run bench -- render [--recipients 100000] [--baseline 200] [--template monthly-usage-report] [--consume flat|length]`:
 * personalised renders (subject, preheader, HTML, text) per second on one core, each recipient
 * with distinct data and locale, through the engine's per-recipient path (the template compiled
 * once per content hash). Baseline in the same run: what a naive implementation does per
 * recipient — Handlebars over the MJML source, MJML compile, html-to-text.
 * Both rates are CPU-time rates (process.cpuUsage: other engineers share the cores); wall-clock
 * rates are printed too. The recipients' contexts are built before the clock starts.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: string) => option(args, name, def);
  const recipients = Number(opt('recipients', '100000'));
  const baselineCount = Number(opt('baseline', '200'));
  const name = opt('template', 'monthly-usage-report');
  const consumeMode = opt('consume', 'flat');
  if (consumeMode !== 'flat' && consumeMode !== 'length') throw new Error(`--consume must be flat or length (got "${consumeMode}")`);
  const consume = consumeMode === 'flat' ? consumeFlat : consumeLength;
  const now = new Date('2026-11-20T03:00:00Z');
  const engine = new TemplateEngine({
    dir: path.join(ROOT, 'templates'),
    displayRoot: 'templates',
    defaultLocale: 'ja',
    defaultTimezone: 'Asia/Tokyo',
    keyFeatures: KEY_FEATURES,
    sender: SENDER,
    reloadMs: 60_000,
    now: () => now,
  });
  const compileStarted = process.hrtime.bigint();
  const compiled = await engine.get(name);
  const compileMs = Number(process.hrtime.bigint() - compileStarted) / 1e6;
  const sections = (compiled.locales.get('ja')!.assembled.text.match(/<mj-section\b/g) ?? []).length;
  line({ phase: 'compile', template: name, version: compiled.version, locales: [...compiled.locales.keys()], sections, ms: Math.round(compileMs) });

  // Distinct recipients, prepared before timing and reported on their own line (building
  // contexts is RenderContextBuilder's job, not rendering's); all stay live during the run.
  const ctxStarted = process.hrtime.bigint();
  const ctxCpu = process.cpuUsage();
  const contexts: RenderContext[] = [];
  for (let i = 0; i < recipients; i++) contexts.push(recipient(i, now));
  line({ phase: 'contexts', recipients, cpuSeconds: round(cpuOf(ctxCpu)), wallSeconds: round(Number(process.hrtime.bigint() - ctxStarted) / 1e9), heapMb: Math.round(process.memoryUsage().heapUsed / 1048576) });

  // Warm-up on other recipients' data (a separate set, so the measured run starts cold per recipient), then the measured run.
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += consume(render(engine, compiled, recipient(recipients + i, now)));
  // Spot checks outside the timed loop: personalised, escaped, in the recipient's locale.
  for (const i of [0, 1, 2, 3]) {
    const e = render(engine, compiled, contexts[i]);
    if (!e.html.includes(escape(contexts[i].contact.name)) || !e.text.includes(contexts[i].contact.name) || e.locale !== contexts[i].contact.locale) throw new Error(`render lost recipient ${i}'s data`);
  }
  sink = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  for (let i = 0; i < recipients; i++) {
    const e = render(engine, compiled, contexts[i]);
    bytes += e.html.length + e.text.length;
    sink += consume(e);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuSeconds = cpuOf(cpuStarted);
  // "On one core": CPU time of this (single-threaded) process, so other load on a shared machine does not count; wall-clock shown too.
  const rate = recipients / cpuSeconds;
  line({ phase: 'render', recipients, cpuSeconds: round(cpuSeconds), wallSeconds: round(seconds), perSecond: Math.round(rate), perWallSecond: Math.round(recipients / seconds), avgBytes: Math.round(bytes / recipients), heapMb: Math.round(process.memoryUsage().heapUsed / 1048576), consume: consumeMode, sink });

  // Naive baseline: everything per recipient.
  const hb = createHandlebars();
  const toText = compileHtmlToText({ wordwrap: false });
  const sources = new Map([...compiled.locales].map(([l, c]) => [l, c.assembled.text]));
  const bStarted = process.hrtime.bigint();
  const bCpu = process.cpuUsage();
  for (let i = 0; i < baselineCount; i++) {
    const ctx = contexts[i];
    const tl: RenderData = { locale: ctx.contact.locale, timezone: ctx.contact.timezone, links: new PreviewLinkBuilder(undefined, ctx.contact.id), features: compiled.features, defaultLocale: 'ja', memo: new Map() };
    const mjmlSource = hb.compile(sources.get(ctx.contact.locale)!)(ctx, { data: { tl, preheader: '' } });
    const { html } = await mjml2html(mjmlSource, { validationLevel: 'skip' });
    const text = toText(html);
    bytes += html.length + text.length;
    sink += html.charCodeAt(html.length >> 1) + text.charCodeAt(text.length >> 1);
  }
  const bSeconds = Number(process.hrtime.bigint() - bStarted) / 1e9;
  const baseline = baselineCount / cpuOf(bCpu);
  line({ phase: 'baseline', recipients: baselineCount, cpuSeconds: round(cpuOf(bCpu)), wallSeconds: round(bSeconds), perSecond: round(baseline), perWallSecond: round(baselineCount / bSeconds) });
  summary({
    bench: 'render',
    value: Math.round(rate),
    unit: 'emails/s',
    baseline: round(baseline),
    ratio: round(rate / baseline),
    target: '>= 20000 emails/s on one core and >= 200x baseline',
    template: name,
    recipients,
    consume: consumeMode,
    wallPerSecond: Math.round(recipients / seconds),
    loadAverage: os.loadavg()[0],
  });
}

function render(engine: TemplateEngine, compiled: Awaited<ReturnType<TemplateEngine['get']>>, ctx: RenderContext) {
  return engine.renderCompiled(compiled, ctx.contact.locale, ctx, new PreviewLinkBuilder(undefined, ctx.contact.id));
}

function recipient(i: number, now: Date): RenderContext {
  const ja = i % 3 !== 0;
  const base = sampleContext({ locale: ja ? 'ja' : 'en', sender: SENDER, keyFeatures: KEY_FEATURES, now, csm: i % 5 === 0 ? { name: '田中 美咲', email: 'misaki@touchline.example' } : null });
  const name = ja ? `${FAMILY[i % 8]} ${GIVEN[(i >> 3) % 8]}` : `User ${i}`;
  base.contact = { ...base.contact, id: String(i + 1), externalId: `u-${i}`, name, email: `u${i}@example.com`, timezone: ja ? 'Asia/Tokyo' : ['America/New_York', 'Europe/London'][i % 2] };
  base.account = { ...base.account, id: String((i >> 2) + 1), name: ja ? `株式会社テスト${i >> 2}` : `Account ${i >> 2} Inc.`, plan: ['starter', 'growth', 'business', 'enterprise'][i % 4] };
  base.signals = {
    ...base.signals,
    accountLogins30d: 50 + (i % 400),
    accountLoginsPrev30d: 60 + ((i * 7) % 380),
    activeUsers30d: 1 + (i % 40),
    seatUtilization: (i * 13) % 101,
    keyFeatureUsage: base.signals.keyFeatureUsage.map((u, k) => ({ ...u, count30d: (i + k * 17) % 9 === 0 ? 0 : ((i * (k + 3)) % 120) + 1 })),
  };
  return base;
}

/**
 * Uses every part of the email, so no work can be skipped: the lengths, and one character
 * from the middle of the HTML and the text, which makes V8 flatten the strings built by
 * concatenation (deferred work any sender pays when it writes the message out).
 */
function consumeFlat(e: RenderedEmail): number {
  return e.subject.length + e.preheader.length + e.version.length + e.html.charCodeAt(e.html.length >> 1) + e.text.charCodeAt(e.text.length >> 1);
}

/** `--consume length`: lengths only, as the benchmark first measured (leaves V8's concatenation ropes unflattened). */
function consumeLength(e: RenderedEmail): number {
  return e.subject.length + e.preheader.length + e.html.length + e.text.length;
}

function cpuOf(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

function escape(s: string) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}
