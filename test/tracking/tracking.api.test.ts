import { startTestApp, TestApp } from '../support/app';
import { hashIp } from '../../src/tracking/privacy';
import { events, pathOf, seedMessage } from './fixtures';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('tracking endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRACKING_RATE_PER_MINUTE: '100000', TRACKING_PAGE_RATE_PER_MINUTE: '100000' } });
  });
  afterAll(() => t.close());

  const get = (path: string, headers: Record<string, string> = {}) => t.request('GET', path, { key: null, headers: { 'user-agent': CHROME, ...headers } });
  const form = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    t.request('POST', path, { key: null, raw: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': CHROME, ...headers } });

  describe('open pixel', () => {
    it('answers a never-cached GIF and records every open with a hashed IP, never the address', async () => {
      const m = await seedMessage(t);
      const r1 = await get(pathOf(m.links.openPixel()), { 'x-forwarded-for': '198.51.100.7' });
      expect(r1.status).toBe(200);
      expect(r1.headers.get('content-type')).toBe('image/gif');
      expect(r1.headers.get('cache-control')).toContain('no-store');
      expect(r1.headers.get('expires')).toBe('0');
      await get(pathOf(m.links.openPixel()), { 'x-forwarded-for': '198.51.100.7' });
      const rows = await events(t, m.id, 'open');
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ contact_id: m.contactId, account_id: m.accountId, machine: false, classification: 'human', user_agent: CHROME });
      expect(rows[0].ip_hash).toBe(hashIp(t.config.tracking.ipHashKey, '198.51.100.7'));
      const dump = JSON.stringify(await t.db.query(`SELECT * FROM engagement_events`));
      expect(dump).not.toContain('198.51.100.7');
    });

    it('keeps Apple Mail Privacy Protection opens but flags them as machine', async () => {
      const m = await seedMessage(t);
      await get(pathOf(m.links.openPixel()), { 'user-agent': 'Mozilla/5.0', 'x-forwarded-for': '17.58.1.2' });
      expect(await events(t, m.id, 'open')).toMatchObject([{ machine: true, classification: 'apple_mpp' }]);
    });
  });

  describe('click redirect', () => {
    it('redirects to the signed URL, records the click with its label, and leaks no referrer', async () => {
      const m = await seedMessage(t);
      const r = await get(pathOf(m.links.track('https://app.example.com/reports?from=mail&x=1', 'cta')));
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe('https://app.example.com/reports?from=mail&x=1');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(await events(t, m.id, 'click')).toMatchObject([{ machine: false, classification: 'human', url: 'https://app.example.com/reports?from=mail&x=1', data: { label: 'cta' } }]);
    });

    it('flags a scanner clicking within seconds of delivery, and still redirects it', async () => {
      const m = await seedMessage(t, { sentAt: new Date(t.clock.now().getTime() - 2000) });
      const r = await get(pathOf(m.links.track('https://app.example.com/')));
      expect(r.status).toBe(302);
      expect(await events(t, m.id, 'click')).toMatchObject([{ machine: true, classification: 'fast_click' }]);
    });

    it('a honeypot hit is a machine and marks the same address’s earlier clicks on that message', async () => {
      const m = await seedMessage(t);
      const scanner = { 'x-forwarded-for': '192.0.2.99' };
      await get(pathOf(m.links.track('https://app.example.com/a')), scanner);
      await get(pathOf(m.links.track('https://app.example.com/b')), { 'x-forwarded-for': '192.0.2.100' });
      const hp = await get(pathOf(m.links.honeypot()), scanner);
      expect(hp.status).toBe(200);
      expect(hp.headers.get('location')).toBeNull();
      const rows = await events(t, m.id, 'click');
      expect(rows.map((r) => [r.url, r.machine, r.classification])).toEqual([
        ['https://app.example.com/a', true, 'honeypot_peer'],
        ['https://app.example.com/b', false, 'human'],
        [`${t.config.publicUrl}/`, true, 'honeypot'],
      ]);
    });

    it('records a HEAD link check as a machine click', async () => {
      const m = await seedMessage(t);
      const r = await t.request('HEAD', pathOf(m.links.track('https://app.example.com/h')), { key: null, headers: { 'user-agent': CHROME } });
      expect(r.status).toBe(302);
      expect(await events(t, m.id, 'click')).toMatchObject([{ machine: true, classification: 'head_request' }]);
    });
  });

  describe('preference page', () => {
    it('shows the page in the contact’s language with a CSRF field', async () => {
      const ja = await seedMessage(t, { locale: 'ja' });
      const page = await get(pathOf(ja.links.preferences()));
      expect(page.status).toBe(200);
      expect(page.text).toContain('<html lang="ja">');
      expect(page.text).toContain('メール配信設定');
      expect(page.text).toMatch(/name="csrf" value="[A-Za-z0-9_-]{43}"/);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      const en = await seedMessage(t, { locale: 'en-US' });
      expect((await get(pathOf(en.links.preferences()))).text).toContain('Email preferences');
    });

    it('refuses posts without the page’s CSRF field or from another origin', async () => {
      const m = await seedMessage(t);
      const path = pathOf(m.links.preferences());
      const csrf = /name="csrf" value="([^"]+)"/.exec((await get(path)).text)![1];
      expect((await form(path, { choice: 'all_off' })).status).toBe(403);
      expect((await form(path, { choice: 'all_off', csrf: csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A') })).status).toBe(403);
      expect((await form(path, { choice: 'all_off', csrf }, { origin: 'https://evil.example' })).status).toBe(403);
      expect((await form(path, { choice: 'all_off', csrf }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
      // A CSRF field from another link's page does not fit this one.
      const other = await seedMessage(t);
      const otherCsrf = /name="csrf" value="([^"]+)"/.exec((await get(pathOf(other.links.preferences()))).text)![1];
      expect((await form(path, { choice: 'all_off', csrf: otherCsrf })).status).toBe(403);
      expect(await t.db.query(`SELECT * FROM suppressions WHERE email = $1`, [m.email])).toEqual([]);
      expect((await form(path, { choice: 'everything', csrf })).status).toBe(400);
    });

    it('marketing only: suppresses marketing mail (queued ones at once) and keeps operational mail', async () => {
      const m = await seedMessage(t);
      const queuedMarketing = await seedMessage(t, { contactId: m.contactId, accountId: m.accountId, email: m.email, sentAt: null, category: 'marketing' });
      const queuedOperational = await seedMessage(t, { contactId: m.contactId, accountId: m.accountId, email: m.email, sentAt: null, category: 'operational' });
      const path = pathOf(m.links.preferences());
      const csrf = /name="csrf" value="([^"]+)"/.exec((await get(path)).text)![1];
      const saved = await form(path, { choice: 'marketing_off', csrf }, { origin: new URL(t.config.publicUrl).origin });
      expect(saved.status).toBe(200);
      expect(saved.text).toContain('Your preferences are saved');
      expect(saved.text).toMatch(/value="marketing_off" checked/);
      expect(await t.db.query(`SELECT scope, reason FROM suppressions WHERE email = $1`, [m.email])).toEqual([{ scope: 'marketing', reason: 'unsubscribed' }]);
      const status = async (id: string) => (await t.db.query(`SELECT status FROM messages WHERE id = $1`, [id]))[0].status;
      expect(await status(queuedMarketing.id)).toBe('suppressed');
      expect(await status(queuedOperational.id)).toBe('queued');
      expect(await events(t, m.id, 'unsubscribe')).toMatchObject([{ data: { scope: 'marketing', choice: 'marketing_off' } }]);

      await form(path, { choice: 'all_off', csrf });
      expect(await status(queuedOperational.id)).toBe('suppressed');
      await form(path, { choice: 'all', csrf });
      expect(await t.db.query(`SELECT * FROM suppressions WHERE email = $1`, [m.email])).toEqual([]);
      expect(await events(t, m.id, 'resubscribe')).toHaveLength(1);
    });

    it('never lifts a bounce or complaint suppression', async () => {
      const m = await seedMessage(t);
      await t.db.query(`INSERT INTO suppressions (email, scope, reason, source, created_at, updated_at) VALUES ($1, 'all', 'hard_bounce', 'ses', now(), now())`, [m.email]);
      const path = pathOf(m.links.preferences());
      const page = await get(path);
      expect(page.text).toContain('We currently do not send to this address');
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1];
      await form(path, { choice: 'all', csrf });
      expect(await t.db.query(`SELECT scope, reason FROM suppressions WHERE email = $1`, [m.email])).toEqual([{ scope: 'all', reason: 'hard_bounce' }]);
    });
  });

  describe('surveys', () => {
    const survey = (m: Awaited<ReturnType<typeof seedMessage>>) => t.db.query(`SELECT kind, score, comment, machine, classification, answers FROM survey_responses WHERE message_id = $1`, [m.id]);

    it('records a one-click NPS answer and offers a comment page in the contact’s language', async () => {
      const m = await seedMessage(t, { locale: 'ja' });
      const r = await get(pathOf(m.links.survey('nps', 9)));
      expect(r.status).toBe(200);
      expect(r.text).toContain('ご回答ありがとうございました');
      expect(r.text).toContain('おすすめ度: 9 / 10');
      expect(await survey(m)).toEqual([{ kind: 'nps', score: 9, comment: null, machine: false, classification: 'human', answers: 1 }]);
      const csrf = /name="csrf" value="([^"]+)"/.exec(r.text)![1];
      const path = pathOf(m.links.survey('nps', 9));
      expect((await form(path, { comment: 'レポートが便利' })).status).toBe(403);
      const c = await form(path, { comment: 'レポートが便利', csrf });
      expect(c.status).toBe(200);
      expect(await survey(m)).toMatchObject([{ score: 9, comment: 'レポートが便利', machine: false }]);
    });

    it('a scanner following every score link records one machine answer, and a person later corrects it', async () => {
      const m = await seedMessage(t);
      // A gateway opens all eleven NPS links within a second (its user agent looks like a browser).
      for (let s = 0; s <= 10; s++) await get(pathOf(m.links.survey('nps', s)));
      expect(await survey(m)).toEqual([{ kind: 'nps', score: 0, comment: null, machine: true, classification: 'survey_burst', answers: 11 }]);
      expect(await events(t, m.id, 'survey')).toHaveLength(11);
      t.clock.advance(10 * 60_000);
      await get(pathOf(m.links.survey('nps', 8)));
      expect(await survey(m)).toMatchObject([{ score: 8, machine: false, classification: 'human' }]);
      // A machine hit after the person's answer changes nothing.
      await get(pathOf(m.links.survey('nps', 2)), { 'user-agent': 'Mimecast Link Scanner' });
      expect(await survey(m)).toMatchObject([{ score: 8, machine: false, answers: 13 }]);
      // The person changes their mind later: the later answer counts.
      t.clock.advance(10 * 60_000);
      await get(pathOf(m.links.survey('nps', 10)));
      expect(await survey(m)).toMatchObject([{ score: 10, machine: false }]);
    });

    it('CSAT answers and out-of-range scores', async () => {
      const m = await seedMessage(t);
      await get(pathOf(m.links.survey('csat', 4)));
      expect(await survey(m)).toMatchObject([{ kind: 'csat', score: 4 }]);
      expect(() => m.links.survey('csat', 0)).toThrow(/1\.\.5/);
      expect(() => m.links.survey('nps', 11)).toThrow(/0\.\.10/);
    });
  });
});
