import * as fs from 'node:fs';
import * as path from 'node:path';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { RenderContextBuilder } from '../../src/templates/render-context.builder';
import { TemplatesService } from '../../src/templates/templates.service';
import { ROOT, startTestApp, TestApp } from '../support/app';
import { templateDir } from './fixtures';

/**
 * The real app and database. Today is 2026-11-20. Account "acme" (CSM csm-tanaka, 10 seats,
 * renewal 2027-01-19): u-a logged in on 11-04 (16 days ago) and created reports; u-b exported.
 */
describe('templates service', () => {
  let t: TestApp;
  let dir: ReturnType<typeof templateDir>;
  let ua: string;

  beforeAll(async () => {
    // A private copy of the shipped templates, so the test can change a file.
    dir = templateDir({});
    fs.cpSync(path.join(ROOT, 'templates'), dir.dir, { recursive: true });
    t = await startTestApp({ now: '2026-11-20T12:00:00Z', env: { TEMPLATES_DIR: dir.dir, TEMPLATES_RELOAD_MS: '0', TEAM_FILE: path.join(ROOT, 'team.yaml') } });
    const batch = [
      { type: 'group', userId: 'u-a', groupId: 'acme', traits: { name: 'Acme 株式会社', plan: 'business', phase: 'adoption', seats: 10, csmOwner: 'csm-tanaka', renewalDate: '2027-01-19', contractStart: '2026-09-01' } },
      { type: 'group', userId: 'u-b', groupId: 'acme' },
      { type: 'identify', userId: 'u-a', traits: { name: '<script>alert(1)</script>', email: 'a@acme.example', locale: 'ja', timezone: 'Asia/Tokyo' } },
      { type: 'identify', userId: 'u-b', traits: { name: 'Bob', email: 'b@acme.example', locale: 'en', timezone: 'America/New_York' } },
      ...[
        ['u-a', 'login', '2026-11-04T01:00:00Z'],
        ['u-a', 'report_created', '2026-11-04T02:00:00Z'],
        ['u-a', 'report_created', '2026-10-01T02:00:00Z'],
        ['u-b', 'login', '2026-11-19T01:00:00Z'],
        ['u-b', 'export_csv', '2026-11-19T02:00:00Z'],
      ].map(([userId, event, timestamp]) => ({ type: 'track', userId, event, timestamp })),
    ];
    expect((await t.request('POST', '/v1/batch', { body: { batch }, key: 'ingest' })).body.rejected).toEqual([]);
    ua = (await t.db.query(`SELECT id FROM contacts WHERE external_id = 'u-a'`))[0].id;
  });
  afterAll(async () => {
    await t.close();
    dir.remove();
  });

  it('builds the render context from real data: contact, account, CSM from team.yaml, signals', async () => {
    const ctx = await t.app.get(RenderContextBuilder).forRecipient(ua);
    expect(ctx.contact).toMatchObject({ externalId: 'u-a', email: 'a@acme.example', locale: 'ja', timezone: 'Asia/Tokyo' });
    expect(ctx.account).toMatchObject({ externalId: 'acme', name: 'Acme 株式会社', plan: 'business', seats: 10, renewalDate: '2027-01-19' });
    expect(ctx.csm).toEqual({ name: '田中 美咲', email: 'misaki.tanaka@touchline.example', title: 'カスタマーサクセスマネージャー' });
    expect(ctx.signals).toMatchObject({
      daysSinceLastLogin: 16,
      logins30d: 1,
      accountLogins30d: 2,
      activeUsers30d: 2,
      seatUtilization: 20,
      featuresUsed30d: 2,
      usedFeatures: ['report_created', 'export_csv'],
      daysUntilRenewal: 60,
      daysSinceContractStart: 80,
    });
    expect(ctx.signals.unusedFeatures).toEqual(['dashboard_viewed', 'mail_sent', 'integration_connected', 'workflow_created', 'user_invited']);
    expect(ctx.signals.keyFeatureUsage[0]).toEqual({ key: 'report_created', count30d: 1, daysSinceLast: 16 });
    expect(ctx.now).toBe('2026-11-20T12:00:00.000Z');
  });

  it('renders for a recipient, stores the version, and re-renders an old version exactly after the files change', async () => {
    const svc = t.app.get(TemplatesService);
    const ctx = await t.app.get(RenderContextBuilder).forRecipient(ua);
    const first = await svc.render('adoption-we-miss-you', ctx.contact.locale, ctx, new PreviewLinkBuilder());
    expect(first.text).toContain('前回のログインから 16日 が経ちました');
    expect(first.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; 様');
    expect(first.html).not.toContain('<script>');
    const [row] = await t.db.query(`SELECT template, category, locales, sources FROM template_versions WHERE version = $1`, [first.version]);
    expect(row).toMatchObject({ template: 'adoption-we-miss-you', category: 'marketing', locales: ['en', 'ja'] });
    expect(Object.keys(row.sources)).toEqual(expect.arrayContaining(['adoption-we-miss-you/ja.mjml', 'layouts/default.mjml', 'partials/footer.ja.mjml', 'partials/signature.ja.mjml', 'features.yaml']));

    dir.write('partials/signature.ja.mjml', fs.readFileSync(path.join(dir.dir, 'partials/signature.ja.mjml'), 'utf8').replace('お気軽にご連絡ください', 'いつでもご相談ください'));
    const second = await svc.render('adoption-we-miss-you', 'ja', ctx, new PreviewLinkBuilder());
    expect(second.version).not.toBe(first.version);
    expect(second.text).toContain('いつでもご相談ください');

    // A fresh engine (as after a restart) re-renders the first version from the stored sources.
    const restarted = new TemplatesService((svc as unknown as { repo: never }).repo, t.clock, t.config);
    const again = await restarted.renderVersion(first.version, undefined, ctx, new PreviewLinkBuilder());
    expect(again).toEqual(first);
  });

  it('previews over HTTP with a real contact or sample data (author scope)', async () => {
    const real = await t.request('GET', '/preview/templates/renewal-value-recap?contact=u-b', { key: 'author' });
    expect(real.status).toBe(200);
    expect(real.headers.get('content-type')).toMatch(/^text\/html/);
    expect(real.text).toContain('Bob');
    expect(real.text).toContain('January 19, 2027');
    const sample = await t.request('GET', '/preview/templates/nps-survey?locale=ja', { key: 'author' });
    expect(sample.text).toContain('友人や同僚にすすめる可能性');
    expect((await t.request('GET', '/preview/templates/nps-survey', { key: 'ingest' })).status).toBe(403);
    const missing = await t.request('GET', '/preview/templates/nope', { key: 'author' });
    expect(missing.status).toBe(404);
    expect((await t.request('GET', '/preview/templates/nps-survey?contact=ghost', { key: 'author' })).status).toBe(404);
  });

  it('a template broken on disk is a 400 naming file:line at preview, and validate lists it', async () => {
    dir.write('webinar-invitation/en.mjml', fs.readFileSync(path.join(dir.dir, 'webinar-invitation/en.mjml'), 'utf8').replace('{{contact.name}}', '{{contact.fullName}}'));
    const res = await t.request('GET', '/preview/templates/webinar-invitation?locale=en', { key: 'author' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('webinar-invitation/en.mjml:');
    const problems = await t.app.get(TemplatesService).validate();
    expect(problems.map((p) => p.message)).toEqual(['unknown variable "contact.fullName": contact has no field "fullName" (available: id, externalId, name, firstName, email, role, locale, timezone, traits)']);
  });
});
