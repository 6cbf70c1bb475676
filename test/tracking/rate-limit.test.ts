import { RateLimiter } from '../../src/tracking/rate-limit';
import { startTestApp, TestApp } from '../support/app';
import { pathOf, seedMessage } from './fixtures';

describe('rate limits on the public tracking endpoints', () => {
  it('counts per key and window (pure)', () => {
    const l = new RateLimiter(2, 60_000);
    expect([l.take('a', 0), l.take('a', 1), l.take('a', 2), l.take('b', 3)]).toEqual([true, true, false, true]);
    expect(l.retryAfter(30_000)).toBe(30);
    expect(l.take('a', 60_000)).toBe(true);
  });

  describe('over HTTP', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { TRACKING_RATE_PER_MINUTE: '5', TRACKING_PAGE_RATE_PER_MINUTE: '3' } });
    });
    afterAll(() => t.close());

    it('answers 429 with Retry-After past the limit, per client address, and recovers in the next minute', async () => {
      t.clock.set('2026-11-20T03:00:00Z');
      const m = await seedMessage(t);
      const open = (ip: string) => t.request('GET', pathOf(m.links.openPixel()), { key: null, headers: { 'x-forwarded-for': ip, 'user-agent': 'Firefox/133.0' } });
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await open('198.51.100.1')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const limited = await open('198.51.100.1');
      expect(limited.headers.get('retry-after')).toBe('60');
      expect((await open('198.51.100.2')).status).toBe(200);
      // Forged tokens count too: brute force is what the limit is for.
      for (let i = 0; i < 5; i++) expect((await t.request('GET', `/t/c/forged${i}`, { key: null, headers: { 'x-forwarded-for': '198.51.100.3' } })).status).toBe(404);
      expect((await t.request('GET', '/t/c/forged', { key: null, headers: { 'x-forwarded-for': '198.51.100.3' } })).status).toBe(429);
      expect(await t.db.query(`SELECT count(*)::int AS n FROM engagement_events WHERE kind = 'open'`)).toEqual([{ n: 6 }]);
      t.clock.advance(60_000);
      expect((await open('198.51.100.1')).status).toBe(200);
    });

    it('pages have their own, lower limit', async () => {
      t.clock.set('2026-11-20T04:00:00Z');
      const m = await seedMessage(t);
      const page = () => t.request('GET', pathOf(m.links.preferences()), { key: null, headers: { 'x-forwarded-for': '198.51.100.9' } });
      expect([(await page()).status, (await page()).status, (await page()).status, (await page()).status]).toEqual([200, 200, 200, 429]);
    });
  });
});
