import { startTestApp, TestApp, TEST_KEYS } from '../support/app';
import { NOW, seedConsoleFixtures, XSS_ACCOUNT, XSS_CONTACT } from './fixtures';
import { ConsoleClient } from './session-client';
import { ConsoleSummariesWorker } from '../../src/console/console-summaries.worker';
import { AccountsListRepository } from '../../src/console/accounts-list.repository';

describe('console access, CSRF and escaping (HTTP)', () => {
  let t: TestApp;
  let ids: Record<string, string>;

  beforeAll(async () => {
    // Every test here logs in within one virtual minute; the login limit is tested in test/security/routes.test.ts.
    t = await startTestApp({ now: NOW, env: { CONSOLE_LOGIN_RATE_PER_MINUTE: '1000' } });
    ids = await seedConsoleFixtures(t.db);
    await t.app.get(ConsoleSummariesWorker).refresh();
  });
  afterAll(() => t.close());

  const handoffStatus = async () => (await t.db.query(`SELECT status, assignee, outcome FROM handoffs WHERE id = $1`, [ids.handoff]))[0];

  it('sends every console page to the login page without a session, and refuses actions', async () => {
    const anon = new ConsoleClient(t.url);
    for (const path of ['/console/accounts', '/console/accounts/acc-active', '/console/messages', `/console/messages/${ids.m_sent}`, '/console/handoffs', '/console/journeys', '/console/preview', '/console/accounts.csv']) {
      const res = await anon.get(path);
      expect([path, res.status]).toEqual([path, 303]);
      expect(res.headers.get('location')).toBe(`/console/login?next=${encodeURIComponent(path)}`);
    }
    // An API key is not a session: the console does not accept it.
    const withKey = await anon.get('/console/accounts', { authorization: `Bearer ${TEST_KEYS.admin}` });
    expect(withKey.status).toBe(303);
    const post = await anon.post(`/console/handoffs/${ids.handoff}`, { action: 'close', outcome: 'x' });
    expect(post.status).toBe(401);
    expect(await handoffStatus()).toMatchObject({ status: 'open' });
  });

  it('accepts review and admin keys only, and sets a signed HttpOnly SameSite=Lax cookie with an expiry', async () => {
    const c = new ConsoleClient(t.url);
    const bad = await c.login(TEST_KEYS.ingest);
    expect(bad.status).toBe(401);
    expect(bad.text).toContain('login-error');
    const author = await new ConsoleClient(t.url).login(TEST_KEYS.author);
    expect(author.status).toBe(401);
    const form = await c.get('/console/login');
    const res = await fetch(t.url + '/console/login', {
      method: 'POST',
      headers: { cookie: c.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: ConsoleClient.field(form.text, '_csrf'), key: TEST_KEYS.review, next: '/console/handoffs' }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/handoffs');
    const cookie = res.headers.getSetCookie().find((x) => x.startsWith('tl_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Max-Age=43200/);
    expect(cookie).toMatch(/Path=\/console/);
  });

  it('rejects a login form without its CSRF token, and never redirects off-site after login', async () => {
    const c = new ConsoleClient(t.url);
    await c.get('/console/login');
    const forged = await c.post('/console/login', { _csrf: 'forged-token-0123456789', key: TEST_KEYS.review });
    expect(forged.status).toBe(403);
    const form = await c.get('/console/login');
    const res = await c.post('/console/login', { _csrf: ConsoleClient.field(form.text, '_csrf'), key: TEST_KEYS.review, next: '//evil.example/' });
    expect(res.headers.get('location')).toBe('/console/accounts');
  });

  it('refuses a tampered or expired session', async () => {
    const c = new ConsoleClient(t.url);
    await c.login(TEST_KEYS.review);
    expect((await c.get('/console/accounts')).status).toBe(200);
    const [body, sig] = c.cookies.tl_session.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const tampered = new ConsoleClient(t.url);
    tampered.cookies.tl_session = `${forged}.${sig}`;
    expect((await tampered.get('/console/accounts')).status).toBe(303);
    t.clock.advance(13 * 3600 * 1000);
    try {
      const expired = await c.get('/console/accounts');
      expect(expired.status).toBe(303);
      expect(expired.headers.get('location')).toContain('expired=1');
    } finally {
      t.clock.set(NOW);
    }
  });

  it('rejects a hand-off action without the session CSRF token and changes nothing', async () => {
    const c = new ConsoleClient(t.url);
    await c.login(TEST_KEYS.review, 'Mika');
    for (const token of [undefined, '', 'not-the-token']) {
      const form: Record<string, string> = { action: 'acknowledge' };
      if (token !== undefined) form._csrf = token;
      const res = await c.post(`/console/handoffs/${ids.handoff}`, form);
      expect(res.status).toBe(403);
      expect(res.text).toContain('CSRF');
    }
    // Another session's token does not work either.
    const other = new ConsoleClient(t.url);
    await other.login(TEST_KEYS.review);
    const res = await c.post(`/console/handoffs/${ids.handoff}`, { action: 'acknowledge', _csrf: await other.csrf() });
    expect(res.status).toBe(403);
    expect(await handoffStatus()).toMatchObject({ status: 'open', assignee: null });
    // With the right token it works, and acknowledging assigns the signed-in CSM.
    const ok = await c.post(`/console/handoffs/${ids.handoff}`, { action: 'acknowledge', _csrf: await c.csrf(), back: '/console/handoffs' });
    expect(ok.status).toBe(303);
    expect(await handoffStatus()).toMatchObject({ status: 'acknowledged', assignee: 'Mika' });
    // Acknowledging twice is a conflict, not a silent success.
    const again = await c.post(`/console/handoffs/${ids.handoff}`, { action: 'acknowledge', _csrf: await c.csrf() });
    expect(again.status).toBe(409);
    await t.db.query(`UPDATE handoffs SET status = 'open', assignee = NULL, acknowledged_at = NULL WHERE id = $1`, [ids.handoff]);
  });

  it('logout needs the CSRF token and ends the session in the browser', async () => {
    const c = new ConsoleClient(t.url);
    await c.login(TEST_KEYS.review);
    expect((await c.post('/console/logout', {})).status).toBe(403);
    const out = await c.post('/console/logout', { _csrf: await c.csrf() });
    expect(out.status).toBe(303);
    expect(c.cookies.tl_session).toBeUndefined();
    expect((await c.get('/console/accounts')).status).toBe(303);
  });

  it('shows names with HTML as text on every page that shows them', async () => {
    const c = new ConsoleClient(t.url);
    await c.login(TEST_KEYS.review);
    const pages = ['/console/accounts', '/console/accounts/acc-active', '/console/messages', `/console/messages/${ids.m_sent}`, '/console/handoffs?status=all', '/console/journeys/onboarding-welcome'];
    for (const path of pages) {
      const res = await c.get(path);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.text).not.toContain('<script>window.__xss');
      expect(res.text).not.toContain('<img src=x');
      expect(res.text).not.toContain('<b>aboard</b>');
      expect(res.text).not.toContain('<b>not bold</b>');
      expect(res.text).not.toContain('<i>really</i>');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    const account = (await c.get('/console/accounts/acc-active')).text;
    expect(account).toContain('&lt;script&gt;window.__xss = 1; alert(&#39;xss&#39;)&lt;/script&gt;');
    expect(account).toContain('Acme &lt;img src=x onerror=&quot;window.__xss=2&quot;&gt;');
    expect((await c.get('/console/handoffs')).text).toContain('&lt;b&gt;not bold&lt;/b&gt;');
    expect(XSS_CONTACT).toContain('<script>');
    expect(XSS_ACCOUNT).toContain('<img');
  });

  it('reports bad filters as messages, not errors, and unknown ids as 404 pages', async () => {
    const c = new ConsoleClient(t.url);
    await c.login(TEST_KEYS.review);
    const res = await c.get('/console/accounts?phase=sleeping&unengaged=abc&after=%%%');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<code>phase</code>: expected one of onboarding, adoption, established, renewal, churned (got &quot;sleeping&quot;)');
    expect(res.text).toContain('<code>unengaged</code>: expected a whole number of days');
    const msgs = await c.get('/console/messages?from=2026-13-45');
    expect(msgs.text).toContain('<code>from</code>: expected a date as YYYY-MM-DD');
    expect((await c.get('/console/accounts/nope')).status).toBe(404);
    expect((await c.get('/console/messages/999999')).status).toBe(404);
    expect((await c.get('/console/messages/abc')).status).toBe(404);
    expect((await c.post('/console/handoffs/999999', { action: 'close', _csrf: await c.csrf() })).status).toBe(404);
    expect((await c.post(`/console/handoffs/${ids.handoff}`, { action: 'explode', _csrf: await c.csrf() })).status).toBe(400);
  });

  it('chooses Japanese from Accept-Language and from the language switch', async () => {
    const c = new ConsoleClient(t.url);
    await c.login(TEST_KEYS.review);
    expect((await c.get('/console/accounts', { 'accept-language': 'ja-JP,ja;q=0.9,en;q=0.8' })).text).toContain('<h1>アカウント</h1>');
    expect((await c.get('/console/accounts', { 'accept-language': 'en-US,en;q=0.9' })).text).toContain('<h1>Accounts</h1>');
    const sw = await c.get('/console/lang/ja?back=%2Fconsole%2Fhandoffs');
    expect(sw.headers.get('location')).toBe('/console/handoffs');
    expect((await c.get('/console/handoffs', { 'accept-language': 'en' })).text).toContain('<h1>トスアップ</h1>');
  });

  it('answers "unengaged" exactly even when the activity summary is stale', async () => {
    const c = new ConsoleClient(t.url);
    await c.login(TEST_KEYS.review);
    const rows = async () => [...(await c.get('/console/accounts?unengaged=14')).text.matchAll(/data-account="([^"]+)"/g)].map((m) => m[1]);
    expect(await rows()).toEqual(['acc-never', 'acc-quiet']);
    // After the last refresh: Never Inc starts using the product, and a new idle account appears.
    await t.db.query(`INSERT INTO event_rollups (account_id, event, day, contact_id, count, first_at, last_at) VALUES ($1, 'login', '2026-11-20', 0, 1, $2, $2)`, [ids['acc-never'], NOW]);
    await t.db.query(`INSERT INTO accounts (external_id, name, phase, created_at, updated_at) VALUES ('acc-new', 'New Idle', 'onboarding', $1, $1)`, [NOW]);
    expect(await rows()).toEqual(['acc-new', 'acc-quiet']);
    // Both candidate plans (the page picks by the summary's count) give the same exact answer.
    const repo = t.app.get(AccountsListRepository);
    const filter = { unengagedDays: 14, sort: 'name' as const };
    for (const plan of ['sparse', 'dense'] as const) {
      expect([plan, (await repo.page(filter, null, 50, t.clock.now(), plan)).map((r) => r.external_id)]).toEqual([plan, ['acc-new', 'acc-quiet']]);
      expect(await repo.count(filter, t.clock.now(), 1000, plan)).toEqual({ count: 2, capped: false });
    }
    await t.app.get(ConsoleSummariesWorker).refresh();
    expect(await rows()).toEqual(['acc-new', 'acc-quiet']);
    await t.db.query(`DELETE FROM event_rollups WHERE account_id = $1 AND day = '2026-11-20'`, [ids['acc-never']]);
    await t.db.query(`DELETE FROM accounts WHERE external_id = 'acc-new'`);
    await t.app.get(ConsoleSummariesWorker).refresh();
  });

  it('sorts by health over scored accounts, in both directions, with keyset paging', async () => {
    const c = new ConsoleClient(t.url);
    await c.login(TEST_KEYS.review);
    const ids = (html: string) => [...html.matchAll(/data-account="([^"]+)"/g)].map((m) => m[1]);
    expect(ids((await c.get('/console/accounts?sort=score_asc')).text)).toEqual(['acc-quiet', 'acc-active']);
    expect(ids((await c.get('/console/accounts?sort=score_desc')).text)).toEqual(['acc-active', 'acc-quiet']);
    const all = ids((await c.get('/console/accounts?sort=mrr')).text);
    // Equal MRR: newest id first, as the keyset order (mrr desc, id desc) says; bulk accounts have none.
    expect(all.slice(0, 4)).toEqual(['acc-never', 'acc-opened', 'acc-quiet', 'acc-active']);
    expect(ids((await c.get('/console/accounts?q=Quiet')).text)).toEqual(['acc-quiet']);
    expect(ids((await c.get('/console/accounts?q=bulk-007')).text)).toEqual(['bulk-007']);
  });
});
