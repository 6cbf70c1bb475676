import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { startTestApp, TestApp, TEST_KEYS } from '../support/app';
import { ConsoleSummariesWorker } from '../../src/console/console-summaries.worker';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { RenderContextBuilder } from '../../src/templates/render-context.builder';
import { RenderedEmail, TemplatesService } from '../../src/templates/templates.service';
import { ARTIFACTS, launchChromium } from './browser';
import { NOW, seedConsoleFixtures, seedEnrollments, XSS_ACCOUNT, XSS_CONTACT } from './fixtures';
import { JourneyVersionsService } from '../../src/engine/journey-versions.service';
import { compareConversion } from '../../src/console/stats';

/**
 * The console in a real headless Chromium: log in, filter, open an account, read its
 * timeline and chart, open a message, act on a hand-off, export CSV, read a journey report,
 * and check the numbers against the database.
 */
describe('console in a browser', () => {
  let t: TestApp;
  let ids: Record<string, string>;
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const dialogs: string[] = [];
  let rendered: RenderedEmail;
  let enrolled: { journey: string };

  beforeAll(async () => {
    t = await startTestApp({ now: NOW, env: { CONSOLE_PAGE_SIZE: '50' } });
    ids = await seedConsoleFixtures(t.db);
    // One message rendered for real, as delivery would have: its version and context recorded.
    const context = await t.app.get(RenderContextBuilder).forRecipient(ids['u-xss']);
    rendered = await t.app.get(TemplatesService).render('onboarding-welcome', 'ja', context, new PreviewLinkBuilder());
    await t.db.query(`UPDATE messages SET template = $2, template_version = $3, context = $4, subject = $5 WHERE id = $1`, [
      ids.m_sent,
      'onboarding-welcome',
      rendered.version,
      JSON.stringify(context),
      rendered.subject,
    ]);
    await t.app.get(JourneyVersionsService).reload();
    enrolled = await seedEnrollments(t.db, ids);
    await t.app.get(ConsoleSummariesWorker).refresh();
    chrome = await launchChromium();
    page = await chrome.context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await t?.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const texts = (selector: string) => page.locator(selector).allInnerTexts();

  it('logs in with the review key after being sent to the login page', async () => {
    await page.goto(`${t.url}/console/accounts/acc-active`);
    expect(page.url()).toContain('/console/login?next=');
    await shot('01-login');
    await page.fill('#key', TEST_KEYS.review);
    await page.fill('#name', 'Mika');
    await page.click('#login-form button[type=submit]');
    await page.waitForURL(/\/console\/accounts\/acc-active$/);
    const cookies = await chrome.context.cookies();
    const session = cookies.find((c) => c.name === 'tl_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Lax');
    expect(await page.evaluate('document.cookie')).not.toContain('tl_session');
  });

  it('lists accounts with paging and filters them to the unengaged, matching the database', async () => {
    await page.goto(`${t.url}/console/accounts`);
    const all = Number((await page.innerText('#match-count')).replace(/\D/g, ''));
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM accounts`);
    expect(all).toBe(n);
    expect(await page.locator('#accounts-table tbody tr').count()).toBe(50);
    await shot('02-accounts');
    // Keyset paging walks every account exactly once.
    const seen = new Set<string>();
    for (let guard = 0; guard < 10; guard++) {
      for (const id of await page.locator('#accounts-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-account')!))) seen.add(id);
      if (!(await page.locator('#next-page').first().isVisible())) break;
      await page.locator('#next-page').first().click();
    }
    expect(seen.size).toBe(n);

    await page.goto(`${t.url}/console/accounts`);
    await page.fill('input[name=unengaged]', '14');
    await page.click('#account-filters button[type=submit]');
    await page.waitForURL(/unengaged=14/);
    const shown = await page.locator('#accounts-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-account')));
    // Independently: no rollup in the 14 days up to today, and no human open/click/survey since then.
    const expected = await t.db.query<{ external_id: string }>(
      `SELECT external_id FROM accounts a
        WHERE NOT EXISTS (SELECT 1 FROM event_rollups r WHERE r.account_id = a.id AND r.day > date '2026-11-20' - 14)
          AND NOT EXISTS (SELECT 1 FROM engagement_events e WHERE e.account_id = a.id AND NOT e.machine AND e.kind IN ('open','click','survey')
                           AND e.occurred_at >= (date '2026-11-20' - 13)::timestamptz)
        ORDER BY name`,
    );
    expect(shown).toEqual(expected.map((r) => r.external_id));
    expect(shown).toEqual(['acc-never', 'acc-quiet']);
    expect(await page.innerText('#match-count')).toBe('2');
    await shot('03-accounts-unengaged');
  });

  it('exports the current filter as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const file = path.join(ARTIFACTS, 'accounts-unengaged.csv');
    await download.saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('external_id,name,phase,plan,mrr,csm_owner,high_touch,health_score,health_band,previous_score,last_usage,last_engagement,open_handoffs,renewal_date');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['acc-never', 'acc-quiet']);
    expect(lines.find((l) => l.startsWith('acc-quiet'))).toContain(',35.00,red,50.00,2026-10-21,,1,');
  });

  it('opens an account: chart, what moved it, one timeline with statuses, reasons, machine marks and surveys, contacts', async () => {
    await page.goto(`${t.url}/console/accounts?q=acme`);
    await page.click('#accounts-table tbody tr[data-account="acc-active"] a');
    await page.waitForURL(/\/console\/accounts\/acc-active$/);
    expect(await page.innerText('h1')).toBe(XSS_ACCOUNT);
    const points = Number(await page.getAttribute('svg.chart', 'data-points'));
    // With the health history table: one point per snapshot and the movers table; before it: the current score.
    const [{ history }] = await t.db.query(`SELECT to_regclass('public.health_snapshots') IS NOT NULL AS history`);
    const snapshots = history ? (await t.db.query(`SELECT count(*)::int AS n FROM health_snapshots WHERE account_id = $1`, [ids['acc-active']]))[0].n : 1;
    expect(points).toBe(snapshots);
    if (history) expect(await page.locator('#movers tbody tr', { hasText: 'logins' }).innerText()).toContain('+10.00'); // current contribution 40 vs 30 on the first day shown
    expect(await page.locator('svg.chart circle').count()).toBe(points);
    const timeline = await texts('#timeline li');
    const messages = await t.db.query(`SELECT status, reason FROM messages WHERE account_id = $1`, [ids['acc-active']]);
    expect(await page.locator('#timeline li.k-message').count()).toBe(messages.length);
    expect(timeline.join('\n')).toContain('weekly cap reached');
    expect(await page.locator('#timeline li.k-engagement .machine').count()).toBe(1);
    expect(timeline.find((l) => l.includes('NPS 9'))).toContain('“レポートが便利 <i>really</i>”');
    expect(await page.locator('#timeline li.k-usage').count()).toBe(2);
    // Journey entries and steps from the engine's enrollment history.
    const [{ h }] = await t.db.query(`SELECT count(*)::int AS h FROM enrollment_history x JOIN enrollments e ON e.id = x.enrollment_id WHERE e.account_id = $1`, [ids['acc-active']]);
    expect(await page.locator('#timeline li.k-enrollment').count()).toBe(h);
    expect(timeline.join('\n')).toContain('adoption-key-feature · entered');
    // The contact's name is text, in the timeline and in the contacts table.
    expect(await page.locator('#contacts').innerText()).toContain(XSS_CONTACT);
    expect(timeline.join('\n')).toContain(XSS_CONTACT);
    const xssRow = await page.locator('#contacts tbody tr', { hasText: 'xss@acme.example' }).innerText();
    expect(xssRow.split('\t').slice(3, 7)).toEqual(['1', '1', '1', '0']);
    // Hiding a kind is client-side.
    await page.uncheck('.tl-filter input[value=usage]');
    expect(await page.locator('#timeline li.k-usage:visible').count()).toBe(0);
    await page.check('.tl-filter input[value=usage]');
    await shot('04-account');
  });

  it('opens a message from the timeline and shows the email re-rendered from its recorded version and context', async () => {
    await page.click(`#timeline li.k-message a[href="/console/messages/${ids.m_sent}"]`);
    await page.waitForURL(new RegExp(`/console/messages/${ids.m_sent}$`));
    expect(await page.innerText('h1')).toBe(rendered.subject);
    expect(await page.innerText('#message-facts')).toContain(XSS_CONTACT);
    expect(await page.locator('#message-engagement tr').count()).toBe(2);
    expect(await page.innerText('#preview-subject')).toBe(rendered.subject);
    const frame = page.frameLocator('#email-preview');
    const body = await frame.locator('body').innerText();
    expect(body.length).toBeGreaterThan(50);
    // The recipient's name is text in the email too, and the preview's links are not tracking links.
    expect(body).toContain(XSS_CONTACT);
    const hrefs = await frame.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(hrefs.some((h) => h.includes('/t/'))).toBe(false);
    expect(await page.getAttribute('#email-preview', 'sandbox')).toBe('');
    await shot('05-message');
  });

  it('previews every template in each locale, journey diagrams and validation problems', async () => {
    await page.goto(`${t.url}/console/preview`);
    const templates = t.app.get(TemplatesService);
    let expected = 0;
    for (const name of await templates.names()) expected += (await templates.info(name)).locales.length;
    expect(await page.locator('.template-preview').count()).toBe(expected);
    expect(await page.locator('.template-preview .error-box').count()).toBe(0);
    const problems = await templates.validate();
    if (problems.length) expect(await page.locator('#validation li').count()).toBeGreaterThanOrEqual(problems.length);
    else expect(await page.locator('#no-problems').count()).toBe(1);
    expect(await page.locator('section[data-journey] .diagram .node').count()).toBeGreaterThan(0);
    await shot('11-preview');
    await page.goto(`${t.url}/console/preview?contact=u-ken`);
    expect(await page.locator('.template-preview').count()).toBe(expected);
    expect(await page.frameLocator('.template-preview[data-template="onboarding-welcome"][data-locale="ja"] iframe').locator('body').innerText()).toContain('佐藤 健太');
  });

  it('searches the message log, matching the database', async () => {
    await page.goto(`${t.url}/console/messages`);
    await page.selectOption('select[name=status]', 'capped');
    await page.click('#message-filters button[type=submit]');
    await page.waitForURL(/status=capped/);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE status = 'capped'`);
    expect(await page.locator('#messages-table tbody tr').count()).toBe(n);
    expect(await page.innerText('#messages-table')).toContain('weekly cap reached');
    await page.goto(`${t.url}/console/messages?recipient=ken%40acme.example`);
    const [{ k }] = await t.db.query(`SELECT count(*)::int AS k FROM messages WHERE to_email = 'ken@acme.example'`);
    expect(await page.locator('#messages-table tbody tr').count()).toBe(k);
    await shot('06-messages');
  });

  it('acknowledges a hand-off and closes it with an outcome', async () => {
    await page.goto(`${t.url}/console/handoffs`);
    const row = page.locator(`#handoff-${ids.handoff}`);
    expect(await row.innerText()).toContain('No login for 14 days after onboarding emails');
    expect(await row.innerText()).toContain('<b>not bold</b>');
    await shot('07-handoffs');
    await row.locator('button.ack').click();
    await page.waitForURL(/done=1/);
    expect(await page.innerText('#flash')).toBe('Saved.');
    expect(await page.getAttribute(`#handoff-${ids.handoff}`, 'data-status')).toBe('acknowledged');
    let [h] = await t.db.query(`SELECT status, assignee, acknowledged_at FROM handoffs WHERE id = $1`, [ids.handoff]);
    expect(h).toMatchObject({ status: 'acknowledged', assignee: 'Mika' });
    expect(h.acknowledged_at.toISOString()).toBe(new Date(NOW).toISOString());
    await page.locator(`#handoff-${ids.handoff} input[name=outcome]`).fill('resolved');
    await page.locator(`#handoff-${ids.handoff} button.close`).click();
    await page.waitForURL(/done=1/);
    [h] = await t.db.query(`SELECT status, outcome FROM handoffs WHERE id = $1`, [ids.handoff]);
    expect(h).toEqual({ status: 'closed', outcome: 'resolved' });
    expect(await page.locator(`#handoff-${ids.handoff}`).count()).toBe(0);
  });

  it('reports a journey: funnel, per-template engagement and what was held back, matching the database', async () => {
    await page.goto(`${t.url}/console/journeys`);
    await shot('08-journeys');
    await page.click('#journeys-table a[href="/console/journeys/onboarding-welcome"]');
    await page.waitForURL(/onboarding-welcome$/);
    const rows = await t.db.query(
      `SELECT template, count(*)::int AS sent,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM engagement_events e WHERE e.message_id = m.id AND NOT e.machine AND e.kind IN ('open','click')))::int AS opened,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM engagement_events e WHERE e.message_id = m.id AND NOT e.machine AND e.kind = 'click'))::int AS clicked
         FROM messages m WHERE journey_key = 'onboarding-welcome' AND status = 'sent' GROUP BY template`,
    );
    for (const r of rows) {
      const cells = (await page.locator(`#per-template tr[data-template="${r.template}"] td`).allInnerTexts()).map((s) => s.trim());
      expect([cells[2], cells[3], cells[5]]).toEqual([String(r.sent), String(r.opened), String(r.clicked)]);
    }
    const funnel = await page.locator('.funnel-value').allInnerTexts();
    const total = rows.reduce((a, r) => ({ sent: a.sent + r.sent, opened: a.opened + r.opened, clicked: a.clicked + r.clicked }), { sent: 0, opened: 0, clicked: 0 });
    expect(funnel.slice(1, 4)).toEqual([String(total.sent), String(total.opened), String(total.clicked)]);
    expect(await page.innerText('#held-back')).toContain('weekly cap reached');
    await shot('09-journey');
  });

  it('reports a journey from its enrollments: diagram with live counts, entered and goal, treated vs holdout with its interval, per arm', async () => {
    await page.goto(`${t.url}/console/journeys`);
    await page.click(`#journeys-table a[href="/console/journeys/${enrolled.journey}"]`);
    await page.waitForURL(new RegExp(`${enrolled.journey}$`));
    const active = await t.db.query<{ step_id: string; n: number }>(`SELECT step_id, count(*)::int AS n FROM enrollments WHERE journey_key = $1 AND status = 'active' GROUP BY step_id`, [enrolled.journey]);
    expect(active.length).toBeGreaterThan(0);
    for (const a of active) expect(await page.getAttribute(`#journey-diagram .node[data-step="${a.step_id}"] .count`, 'data-count')).toBe(String(a.n));
    expect(await page.locator('#journey-diagram .node').count()).toBeGreaterThanOrEqual(5);
    const groups = await t.db.query<{ holdout: boolean; n: number; c: number }>(
      `SELECT holdout, count(*)::int AS n, count(*) FILTER (WHERE status = 'converted')::int AS c FROM enrollments WHERE journey_key = $1 GROUP BY holdout`,
      [enrolled.journey],
    );
    const tr = groups.find((g) => !g.holdout)!;
    const ho = groups.find((g) => g.holdout)!;
    const funnel = await page.locator('.funnel-value').allInnerTexts();
    expect([funnel[0], funnel[4]]).toEqual([String(tr.n + ho.n), String(tr.c + ho.c)]);
    const cmp = compareConversion({ successes: tr.c, total: tr.n }, { successes: ho.c, total: ho.n });
    const all = (await page.locator('#effect tbody tr').first().locator('td').allInnerTexts()).map((x) => x.trim());
    expect(all[1]).toBe(`${tr.c} / ${tr.n} (${(cmp.treated.rate! * 100).toFixed(1)}%)`);
    expect(all[2]).toBe(`${ho.c} / ${ho.n} (${(cmp.control.rate! * 100).toFixed(1)}%)`);
    expect(all[3]).toBe(`${cmp.difference! >= 0 ? '+' : ''}${(cmp.difference! * 100).toFixed(1)} pt`);
    expect(all[4]).toBe(`${(cmp.ci!.low * 100).toFixed(1)} … ${(cmp.ci!.high * 100).toFixed(1)} pt`);
    const arms = await t.db.query<{ arm: string; n: number; c: number }>(
      `SELECT arms->>'ab' AS arm, count(*)::int AS n, count(*) FILTER (WHERE status = 'converted')::int AS c FROM enrollments WHERE journey_key = $1 AND NOT holdout GROUP BY 1`,
      [enrolled.journey],
    );
    for (const a of arms) {
      const row = (await page.locator('#effect tbody tr', { hasText: `ab: ${a.arm}` }).locator('td').allInnerTexts()).map((x) => x.trim());
      expect(row[1]).toMatch(new RegExp(`^${a.c} / ${a.n} `));
    }
    await shot('12-journey-enrollments');
  });

  it('switches to Japanese', async () => {
    await page.goto(`${t.url}/console/accounts`);
    await page.click('a[hreflang=ja]');
    await page.waitForURL(/\/console\/accounts$/);
    expect(await page.innerText('h1')).toBe('アカウント');
    expect(await page.innerText('header nav')).toContain('トスアップ');
    await shot('10-accounts-ja');
    await page.click('a[hreflang=en]');
  });

  it('never ran a script from data', async () => {
    expect(dialogs).toEqual([]);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
  });

  it('logs out', async () => {
    await page.click('header form[action="/console/logout"] button');
    await page.waitForURL(/\/console\/login$/);
    await page.goto(`${t.url}/console/accounts`);
    expect(page.url()).toContain('/console/login');
  });
});
