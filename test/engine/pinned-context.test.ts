import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageRenderer } from '../../src/delivery/message-renderer';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { RenderContextBuilder } from '../../src/templates/render-context.builder';
import { TemplatesService } from '../../src/templates/templates.service';
import { engineHarness, EngineHarness, journey, seedPeople, send, track } from './engine-support';

const ROOT = path.resolve(__dirname, '..', '..');

/** A copy of the repository's templates (layouts, partials, features.yaml), to edit in place. */
function realTemplates(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-pinned-')), 'templates');
  fs.cpSync(path.join(ROOT, 'templates'), dir, { recursive: true });
  // And one that does not compile (no front matter).
  fs.mkdirSync(path.join(dir, 'no-front-matter'));
  fs.writeFileSync(path.join(dir, 'no-front-matter', 'ja.mjml'), '<mjml><mj-body></mj-body></mjml>');
  return dir;
}

/**
 * Sends pin the template's current version and store the render context that version reads:
 * exactly its signals, enough to re-render it as the whole context would, and still renderable
 * after the template's files change.
 */
describe('engine: pinned template versions and their render contexts', () => {
  let h: EngineHarness;
  let ids: Awaited<ReturnType<typeof seedPeople>>;
  const dir = realTemplates();

  beforeAll(async () => {
    h = await engineHarness({ env: { TEMPLATES_DIR: dir, TEMPLATES_RELOAD_MS: '0' } });
    ids = await seedPeople(h, [{ ext: 'acme', contacts: [{ ext: 'ken', role: 'admin', locale: 'ja' }, { ext: 'yui', locale: 'en' }, { ext: 'ann' }] }]);
    await h.q(`UPDATE contacts SET name = $2 WHERE id = $1`, [ids.contact.ken, '山田 健']);
    // ken last logged in 16 days ago; yui and ann used the product this month: 3 active users in the last 30 days.
    await track(h, [
      { user: 'ken', event: 'login', at: new Date(h.t.clock.now().getTime() - 16 * 86_400_000).toISOString() },
      { user: 'yui', event: 'login', at: new Date(h.t.clock.now().getTime() - 3 * 86_400_000).toISOString() },
      { user: 'ann', event: 'report_created', at: new Date(h.t.clock.now().getTime() - 5 * 86_400_000).toISOString() },
    ]);
    await h.load(
      journey({ key: 'miss-you', trigger: { type: 'event', event: 'nudge' }, steps: [send('mail', 'adoption-we-miss-you')] }),
      journey({ key: 'report', trigger: { type: 'event', event: 'report' }, steps: [send('mail', 'monthly-usage-report')] }),
      journey({ key: 'broken', trigger: { type: 'event', event: 'broken' }, steps: [send('mail', 'no-front-matter')] }),
    );
  });
  afterAll(() => h.t.close());

  const messagesOf = (journeyKey: string) =>
    h.q(`SELECT id::text, contact_id::text, account_id::text, template, template_version, locale, context FROM messages WHERE journey_key = $1 ORDER BY contact_id`, [journeyKey]);

  it('a template reading two signals gets those two, pinned to its current (stored) version', async () => {
    await track(h, [{ user: 'ken', event: 'nudge' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    const [m] = await messagesOf('miss-you');
    const current = await h.t.app.get(TemplatesService).info('adoption-we-miss-you');
    expect(m.template_version).toBe(current.version);
    expect(await h.q(`SELECT template FROM template_versions WHERE version = $1`, [current.version])).toEqual([{ template: 'adoption-we-miss-you' }]);
    expect(m.context.signals).toEqual({ daysSinceLastLogin: 16, activeUsers30d: 3 });
    // What the template and its layout and partials read, and who the message is for; nothing else.
    expect(Object.keys(m.context).sort()).toEqual(['account', 'contact', 'csm', 'journey', 'now', 'sender', 'signals']);
    expect(m.context.contact).toEqual({ id: ids.contact.ken, externalId: 'ken', name: '山田 健', email: 'ken@example.com', locale: 'ja', timezone: 'Asia/Tokyo' });
    expect(m.context.account).toEqual({ id: ids.account.acme, externalId: 'acme', name: 'acme' });
    expect(m.context.csm).toBeNull();
    expect(m.context.sender).toEqual(expect.objectContaining({ name: expect.any(String), address: expect.any(String), contact: expect.any(String) }));
  });

  it('the stored context re-renders the pinned version exactly as the whole standard context does', async () => {
    const templates = h.t.app.get(TemplatesService);
    const builder = h.t.app.get(RenderContextBuilder);
    await track(h, [{ user: 'ken', event: 'report' }, { user: 'yui', event: 'report' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    const messages = [...(await messagesOf('miss-you')), ...(await messagesOf('report'))];
    expect(messages).toHaveLength(3);
    for (const m of messages) {
      const whole = { ...(await builder.forRecipient(m.contact_id, m.account_id)), journey: m.context.journey, now: m.context.now };
      const links = () => new PreviewLinkBuilder('https://touchline.example/p', 'r');
      const stored = await templates.renderVersion(m.template_version, m.locale, m.context, links());
      const full = await templates.renderVersion(m.template_version, m.locale, whole, links());
      expect(stored).toEqual(full);
      expect(stored.html).toContain(m.context.contact.name);
    }
    // The monthly report reads the per-feature usage: its context holds it, with the whole context's values.
    const [report] = await messagesOf('report');
    const whole = await builder.forRecipient(report.contact_id, report.account_id);
    expect(report.context.signals.keyFeatureUsage).toEqual(whole.signals.keyFeatureUsage);
    expect(report.context.signals).not.toHaveProperty('daysSinceLastLogin');
  });

  it('a template edited after enqueue does not break queued mail: it is sent as pinned, new sends pin the new version', async () => {
    const [queued] = await messagesOf('miss-you');
    // The edit reads a signal the queued message's context does not hold.
    for (const locale of ['ja', 'en']) {
      const file = path.join(dir, 'adoption-we-miss-you', `${locale}.mjml`);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('</mj-column>', '<mj-text>EDITED {{signals.featuresUsed30d}} {{signals.accountLogins30d}}</mj-text>\n  </mj-column>'));
    }
    const edited = await h.t.app.get(TemplatesService).info('adoption-we-miss-you');
    expect(edited.version).not.toBe(queued.template_version);
    expect(edited.uses).toContain('signals.featuresUsed30d');
    // The dispatcher's renderer, as it renders the queued message.
    const renderer = h.t.app.get(MessageRenderer);
    const email = await renderer.render(
      { id: queued.id, contactId: queued.contact_id, accountId: queued.account_id, toEmail: 'ken@example.com', template: queued.template, templateVersion: queued.template_version, locale: queued.locale, category: 'marketing', context: queued.context },
      { unsubscribeUrl: 'https://touchline.example/u/x' },
    );
    expect(email.templateVersion).toBe(queued.template_version);
    expect(email.html).not.toContain('EDITED');
    expect(email.html).toContain('16日');
    // A new send after the edit pins the new version and holds the signals it reads.
    await track(h, [{ user: 'yui', event: 'nudge' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    const [, yui] = await messagesOf('miss-you');
    expect(yui.template_version).toBe(edited.version);
    expect(Object.keys(yui.context.signals).sort()).toEqual(['accountLogins30d', 'activeUsers30d', 'daysSinceLastLogin', 'featuresUsed30d']);
    expect(yui.context.signals).toMatchObject({ accountLogins30d: 2, featuresUsed30d: 1 });
  });

  it('a template that does not compile at enqueue is sent unpinned, with the whole context (rendered or put to review at send time)', async () => {
    await track(h, [{ user: 'ann', event: 'broken' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    const [m] = await messagesOf('broken');
    expect(m.template_version).toBeNull();
    const whole = await h.t.app.get(RenderContextBuilder).forRecipient(m.contact_id, m.account_id);
    expect(m.context).toEqual({ ...whole, now: m.context.now, journey: { key: 'broken', name: 'broken' } });
  });
});
