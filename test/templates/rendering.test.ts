import * as path from 'node:path';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { RenderContext, sampleContext } from '../../src/templates/render-context';
import { ROOT } from '../support/app';
import { BASE_FILES, engineFor, KEY_FEATURES, NOW, SENDER, template, templateDir } from './fixtures';

const ctx = (locale: string, over: Partial<RenderContext['contact']> = {}): RenderContext => {
  const c = sampleContext({ locale, sender: SENDER, keyFeatures: KEY_FEATURES, now: NOW });
  c.contact = { ...c.contact, ...over };
  return c;
};

describe('shipped templates', () => {
  const engine = engineFor(path.join(ROOT, 'templates'), 60_000);
  const names = [
    'onboarding-welcome',
    'onboarding-first-action-reminder',
    'adoption-we-miss-you',
    'adoption-feature-spotlight',
    'established-new-user-welcome',
    'renewal-value-recap',
    'nps-survey',
    'webinar-invitation',
    'monthly-usage-report',
  ];

  it('all validate, with ja and en for each template the journeys need', async () => {
    expect(await engine.validate()).toEqual([]);
    for (const name of names) expect((await engine.info(name)).locales).toEqual(['en', 'ja']);
  });

  it.each(names)('%s renders in both locales with the compliance footer and the recipient data', async (name) => {
    for (const locale of ['ja', 'en']) {
      const links = new PreviewLinkBuilder();
      const email = await engine.render(name, locale, ctx(locale), links);
      expect(email.locale).toBe(locale);
      expect(email.subject.length).toBeGreaterThan(5);
      expect(email.subject).not.toMatch(/\{\{|TLHB/);
      expect(email.html).not.toMatch(/\{\{|TLHB/);
      expect(email.text).not.toMatch(/\{\{|TLHB|<\/?(p|div|td|tr|table|a|span|br|strong)\b/);
      expect(email.text).toContain(links.unsubscribe());
      expect(email.html).toContain(SENDER.address);
    }
  });

  it('shows days since last login, unused features, and one-click NPS links', async () => {
    const c = ctx('ja');
    c.signals.daysSinceLastLogin = 21;
    const miss = await engine.render('adoption-we-miss-you', 'ja', c, new PreviewLinkBuilder());
    expect(miss.text).toContain('前回のログインから 21日 が経ちました');
    c.signals.unusedFeatures = ['mail_sent'];
    const spot = await engine.render('adoption-feature-spotlight', 'ja', c, new PreviewLinkBuilder());
    expect(spot.text).toContain('メール配信を試す → <https://app.touchline.example/mail>');
    expect(spot.text).not.toContain('外部サービス連携');
    const links = new PreviewLinkBuilder();
    const nps = await engine.render('nps-survey', 'en', ctx('en'), links);
    for (let s = 0; s <= 10; s++) expect(nps.html).toContain(`href="${links.survey('nps', s).replace(/=/g, '&#x3D;')}"`);
  });

  it('signs with the CSM when the account has one, else with the team', async () => {
    const c = ctx('ja');
    expect((await engine.render('onboarding-welcome', 'ja', c, new PreviewLinkBuilder())).text).toContain('カスタマーサクセスチーム');
    c.csm = { name: '田中 美咲', email: 'misaki@touchline.example', title: 'カスタマーサクセスマネージャー' };
    const email = await engine.render('onboarding-welcome', 'ja', c, new PreviewLinkBuilder());
    expect(email.text).toContain('担当の田中 美咲までお気軽にご連絡ください');
    expect(email.text).toContain('misaki@touchline.example');
  });
});

describe('rendering', () => {
  const files = templateDir({
    ...BASE_FILES,
    'hello/ja.mjml': template(
      'subject: "{{contact.name}} 様へ"\ncategory: operational',
      '<mj-section><mj-column><mj-text>こんにちは {{contact.name}} 様。{{formatDate now "datetime"}} / 更新日 {{formatDate account.renewalDate}}</mj-text></mj-column></mj-section>\n',
    ),
    'hello/en.mjml': template(
      'subject: "For {{contact.name}}"\ncategory: operational',
      '<mj-section><mj-column><mj-text>Hello {{contact.name}}. {{formatDate now "datetime"}} / renews {{formatDate account.renewalDate}} / {{plural signals.daysSinceLastLogin one="# day" other="# days"}}</mj-text></mj-column></mj-section>\n',
    ),
  });
  const engine = engineFor(files.dir);
  afterAll(() => files.remove());

  it('escapes variables in HTML: a contact named <script> renders as text', async () => {
    const name = '<script>alert("x")</script>';
    const email = await engine.render('hello', 'ja', ctx('ja', { name }), new PreviewLinkBuilder());
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    // The subject and the text part are plain text: shown as written, not entity-encoded.
    expect(email.subject).toBe(`${name} 様へ`);
    expect(email.text).toContain(`こんにちは ${name} 様`);
  });

  it('keeps prototype properties out of reach (the fast render path uses Handlebars\' access rules)', async () => {
    const dir = templateDir({ ...BASE_FILES, 'p/en.mjml': template('subject: P\ncategory: operational', '<mj-section><mj-column><mj-text>[{{contact.traits.constructor}}][{{contact.traits.__proto__}}][{{contact.traits.plan}}]</mj-text></mj-column></mj-section>\n') });
    try {
      const c = ctx('en');
      c.contact.traits = { plan: 'gold' };
      expect((await engineFor(dir.dir).render('p', 'en', c, new PreviewLinkBuilder())).text).toContain('[][][gold]');
    } finally {
      dir.remove();
    }
  });

  it('falls back to the language, then to the default locale', async () => {
    const links = new PreviewLinkBuilder();
    expect((await engine.render('hello', 'en-US', ctx('en'), links)).locale).toBe('en');
    const fr = await engine.render('hello', 'fr', ctx('fr'), links);
    expect(fr.locale).toBe('ja');
    expect(fr.subject).toBe('佐藤 健太 様へ'.replace('佐藤 健太', ctx('fr').contact.name));
  });

  it("formats dates in the recipient's locale and timezone; calendar dates are not shifted", async () => {
    const c = ctx('ja', { timezone: 'Asia/Tokyo' });
    c.account.renewalDate = '2027-03-31';
    // 2026-11-20T20:30Z is already the 21st in Tokyo, still the 20th in New York.
    expect((await engine.render('hello', 'ja', c, new PreviewLinkBuilder())).text).toContain('2026年11月21日 5:30 / 更新日 2027年3月31日');
    const e = ctx('en', { timezone: 'America/New_York' });
    e.account.renewalDate = '2027-03-31';
    e.signals.daysSinceLastLogin = 1;
    const text = (await engine.render('hello', 'en', e, new PreviewLinkBuilder())).text;
    expect(text).toMatch(/November 20, 2026 at 3:30\sPM \/ renews March 31, 2027 \/ 1 day/);
    e.signals.daysSinceLastLogin = 1500;
    expect((await engine.render('hello', 'en', e, new PreviewLinkBuilder())).text).toContain('/ 1,500 days');
  });

  it('recompiles only when a file changes: a changed partial is a new version with new content', async () => {
    const dir = templateDir({
      ...BASE_FILES,
      'greet/en.mjml': template('subject: Hi\ncategory: operational', '{{> greeting name=contact.name}}\n'),
      'plain/en.mjml': template('subject: Plain\ncategory: operational', '<mj-section><mj-column><mj-text>plain</mj-text></mj-column></mj-section>\n'),
    });
    try {
      const eng = engineFor(dir.dir, 0);
      const c = ctx('en', { name: 'Ann' });
      const first = await eng.render('greet', 'en', c, new PreviewLinkBuilder());
      const plain1 = await eng.get('plain');
      expect(first.text).toContain('Hello Ann');
      expect((await eng.render('greet', 'en', c, new PreviewLinkBuilder())).version).toBe(first.version);
      dir.write('partials/greeting.mjml', '<mj-section><mj-column><mj-text>Welcome back, {{name}}</mj-text></mj-column></mj-section>\n');
      const second = await eng.render('greet', 'en', c, new PreviewLinkBuilder());
      expect(second.version).not.toBe(first.version);
      expect(second.text).toContain('Welcome back, Ann');
      // A template that does not use the partial keeps its version and its compiled form.
      expect(await eng.get('plain')).toBe(plain1);
      // The old version's sources re-render it exactly.
      const old = await eng.fromSources(first.version, 'greet', {});
      expect(eng.renderCompiled(old, 'en', c, new PreviewLinkBuilder()).text).toContain('Hello Ann');
    } finally {
      dir.remove();
    }
  });

  it('a reload that finds every file unchanged keeps the snapshot; any change (an added file too) is picked up at the next render', async () => {
    const dir = templateDir({ ...BASE_FILES, 'plain/en.mjml': template('subject: Plain\ncategory: operational', '<mj-section><mj-column><mj-text>one</mj-text></mj-column></mj-section>\n') });
    try {
      const eng = engineFor(dir.dir, 0); // re-reads the files before every render
      const c = ctx('en');
      const first = await eng.render('plain', 'en', c, new PreviewLinkBuilder());
      for (let i = 0; i < 3; i++) expect((await eng.render('plain', 'en', c, new PreviewLinkBuilder())).version).toBe(first.version);
      expect(eng.builds).toBe(1);
      dir.write('plain/en.mjml', template('subject: Plain\ncategory: operational', '<mj-section><mj-column><mj-text>two</mj-text></mj-column></mj-section>\n'));
      const changed = await eng.render('plain', 'en', c, new PreviewLinkBuilder());
      expect(changed.text).toContain('two');
      expect(changed.version).not.toBe(first.version);
      dir.write('other/en.mjml', template('subject: Other\ncategory: operational', '<mj-section><mj-column><mj-text>new</mj-text></mj-column></mj-section>\n'));
      expect((await eng.render('other', 'en', c, new PreviewLinkBuilder())).text).toContain('new');
      expect(eng.builds).toBe(3);
      // validate() always rebuilds from the files.
      await eng.validate();
      expect(eng.builds).toBe(4);
    } finally {
      dir.remove();
    }
  });
});
