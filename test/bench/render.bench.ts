import mjml2html from 'mjml';
import { compile as compileHtmlToText } from 'html-to-text';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHandlebars, RenderData } from '../../src/templates/helpers';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { RenderContext, sampleContext } from '../../src/templates/render-context';
import { TemplateEngine } from '../../src/templates/template-engine';
import { line, summary } from './report';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const KEY_FEATURES = ['report_created', 'dashboard_viewed', 'mail_sent', 'integration_connected', 'workflow_created', 'export_csv', 'user_invited'];
const SENDER = { name: 'Touchline Demo Co., Ltd.', email: 'success@touchline.example', address: '1-2-3 Marunouchi, Chiyoda-ku, Tokyo', contact: 'support@touchline.example' };
const FAMILY = ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村'];
const GIVEN = ['健太', '美咲', '大輔', '陽子', '翔', '彩', '拓也', '真由'];

/**
 * `npm run bench -- render [--recipients 100000] [--baseline 200] [--template monthly-usage-report]`:
 * personalised renders (subject, preheader, HTML, text) per second on one core, each recipient
 * with distinct data and locale, through the engine's per-recipient path (the template compiled
 * once per content hash). Baseline in the same run: what a naive implementation does per
 * recipient — Handlebars over the MJML source, MJML compile, html-to-text.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  const recipients = Number(opt('recipients', '100000'));
  const baselineCount = Number(opt('baseline', '200'));
  const name = opt('template', 'monthly-usage-report');
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

  // Distinct recipients, prepared before timing (building contexts is the engine's job, not rendering's).
  const contexts: RenderContext[] = [];
  for (let i = 0; i < recipients; i++) contexts.push(recipient(i, now));

  // Warm-up, then the measured run.
  let bytes = 0;
  for (let i = 0; i < 2000; i++) bytes += render(engine, compiled, contexts[i % contexts.length]).html.length;
  bytes = 0;
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  for (let i = 0; i < recipients; i++) {
    const e = render(engine, compiled, contexts[i]);
    bytes += e.html.length + e.text.length;
    if (i === 0 && !e.html.includes(escape(contexts[0].contact.name))) throw new Error('render lost the recipient name');
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuSeconds = cpuOf(cpuStarted);
  // "On one core": CPU time of this (single-threaded) process, so other load on a shared machine does not count; wall-clock shown too.
  const rate = recipients / cpuSeconds;
  line({ phase: 'render', recipients, cpuSeconds: round(cpuSeconds), wallSeconds: round(seconds), perSecond: Math.round(rate), perWallSecond: Math.round(recipients / seconds), avgBytes: Math.round(bytes / recipients), heapMb: Math.round(process.memoryUsage().heapUsed / 1048576) });

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
    bytes += html.length + toText(html).length;
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
