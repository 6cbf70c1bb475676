import fc from 'fast-check';
import { signToken } from '../../src/tracking/tokens';
import { startTestApp, TestApp } from '../support/app';
import { events, pathOf, seedMessage, SeededMessage } from './fixtures';

/**
 * Every public tracking endpoint against forged and altered tokens (random and targeted)
 * and open-redirect attempts: always a 4xx page, never a redirect, never a recorded event.
 */
describe('token forgery, tampering and open redirects', () => {
  let t: TestApp;
  let m: SeededMessage;
  let other: SeededMessage;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRACKING_RATE_PER_MINUTE: '1000000', TRACKING_PAGE_RATE_PER_MINUTE: '1000000' } });
    m = await seedMessage(t);
    other = await seedMessage(t);
  });
  afterAll(() => t.close());

  const keys = () => t.config.secrets.trackingKeys;
  const hit = (method: 'GET' | 'POST', path: string) =>
    t.request(method, path, { key: null, raw: method === 'POST' ? 'csrf=x&choice=all_off&comment=hi' : undefined, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux) Firefox/133.0', 'content-type': 'application/x-www-form-urlencoded' } });
  const ENDPOINTS: Array<['GET' | 'POST', string]> = [
    ['GET', '/t/o/'],
    ['GET', '/t/c/'],
    ['GET', '/t/p/'],
    ['POST', '/t/p/'],
    ['GET', '/t/s/'],
    ['POST', '/t/s/'],
  ];
  const refused = (r: { status: number; headers: Headers }) => r.status >= 400 && r.status < 500 && r.headers.get('location') === null;
  const nothingRecorded = async () => {
    expect(await t.db.query(`SELECT count(*)::int AS n FROM engagement_events`)).toEqual([{ n: 0 }]);
    expect(await t.db.query(`SELECT count(*)::int AS n FROM survey_responses`)).toEqual([{ n: 0 }]);
    expect(await t.db.query(`SELECT count(*)::int AS n FROM suppressions`)).toEqual([{ n: 0 }]);
  };

  it('random tokens on every endpoint are refused', async () => {
    for (const [method, prefix] of ENDPOINTS) {
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 200, unit: fc.constantFrom(...'ABCabc0123456789-_.'.split('')) }), async (s) => refused(await hit(method, prefix + s))),
        { numRuns: 40 },
      );
    }
    await nothingRecorded();
  });

  it('every single-character alteration of a real token is refused, on every endpoint', async () => {
    const tokens: Record<string, string> = {
      '/t/o/': m.links.openPixel().split('/').pop()!,
      '/t/c/': m.links.track('https://app.example.com/x').split('/').pop()!,
      '/t/p/': m.links.preferences().split('/').pop()!,
      '/t/s/': m.links.survey('nps', 7).split('/').pop()!,
    };
    for (const [method, prefix] of ENDPOINTS) {
      const token = tokens[prefix];
      await fc.assert(
        fc.asyncProperty(fc.nat(token.length - 1), fc.constantFrom(...'AQgw019-_'.split('')), async (i, ch) => {
          fc.pre(token[i] !== ch && token[i] !== '.');
          return refused(await hit(method, prefix + token.slice(0, i) + ch + token.slice(i + 1)));
        }),
        { numRuns: 40 },
      );
    }
    await nothingRecorded();
  });

  it('targeted: another URL, another message, another recipient, another purpose, an unknown key', async () => {
    const real = m.links.track('https://app.example.com/x').split('/').pop()!;
    const [kid, body, mac] = real.split('.');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    const swapped = (p: object) => `${kid}.${Buffer.from(JSON.stringify(p)).toString('base64url')}.${mac}`;
    const attempts = [
      `/t/c/${swapped({ ...payload, u: 'https://evil.example/' })}`, // altered target, old signature
      `/t/c/${swapped({ ...payload, m: other.id })}`, // another message
      `/t/c/${swapped({ ...payload, h: 1 })}`,
      // Validly signed but inconsistent: a message of one contact with another recipient.
      `/t/c/${signToken(keys(), { k: 'c', m: other.id, r: m.contactId, u: 'https://app.example.com/' })}`,
      `/t/o/${signToken(keys(), { k: 'o', m: '999999999', r: m.contactId })}`, // no such message
      `/t/o/${signToken(keys(), { k: 'o', m: "1 OR 1=1", r: m.contactId })}`,
      `/t/c/${m.links.openPixel().split('/').pop()}`, // an open token used as a click
      `/t/p/${m.links.survey('nps', 3).split('/').pop()}`,
      `/t/s/${m.links.preferences().split('/').pop()}`,
      `/t/o/${signToken([{ id: 'kx', secret: 'attacker-secret-0123456789' }], { k: 'o', m: m.id, r: m.contactId })}`,
      `/t/o/${signToken([{ id: keys()[0].id, secret: 'attacker-secret-0123456789' }], { k: 'o', m: m.id, r: m.contactId })}`,
      `/t/s/${signToken(keys(), { k: 's', m: m.id, r: m.contactId, q: 'nps', v: 11 })}`,
      `/t/s/${signToken(keys(), { k: 's', m: m.id, r: m.contactId, q: 'csat', v: 0 })}`,
      `/t/s/${signToken(keys(), { k: 's', m: m.id, r: m.contactId, q: 'other', v: 3 })}`,
      `/t/o/${'A'.repeat(5000)}`,
    ];
    for (const path of attempts) {
      const r = await hit('GET', path);
      expect({ path, status: r.status, location: r.headers.get('location') }).toMatchObject({ status: expect.any(Number), location: null });
      expect(refused(r)).toBe(true);
    }
    await nothingRecorded();
  });

  it('open redirect: only signed http(s) targets, whatever else the request says', async () => {
    const signedClick = (u: string) => `/t/c/${signToken(keys(), { k: 'c', m: m.id, r: m.contactId, u })}`;
    for (const u of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', '//evil.example/', '/\\evil.example', 'ftp://evil.example/', 'file:///etc/passwd', 'mailto:a@b.c', 'https://', '']) {
      const r = await hit('GET', signedClick(u));
      expect({ u, status: r.status, location: r.headers.get('location') }).toEqual({ u, status: 400, location: null });
    }
    // Non-web links are never signed, so they never reach the redirect.
    expect(m.links.track('javascript:alert(1)')).toBe('javascript:alert(1)');
    expect(m.links.track('/relative/path')).toBe('/relative/path');
    expect(m.links.track('mailto:help@example.com')).toBe('mailto:help@example.com');
    await nothingRecorded();
    // Extra parameters cannot replace the signed target.
    const ok = await hit('GET', pathOf(m.links.track('https://app.example.com/ok')) + '?url=https://evil.example/&u=https://evil.example/');
    expect(ok.headers.get('location')).toBe('https://app.example.com/ok');
    expect(await events(t, m.id, 'click')).toHaveLength(1);
  });

  it('a rotated-out key no longer verifies; a key still in the set does', async () => {
    const old = signToken([{ id: 'k0', secret: 'retired-secret-0123456789abc' }], { k: 'o', m: m.id, r: m.contactId });
    expect((await hit('GET', `/t/o/${old}`)).status).toBe(404);
    const rotated = await startTestApp({ env: { TRACKING_KEYS: 'k2:new-secret-0123456789abcdef,k1:old-secret-0123456789abcdef' } });
    try {
      const mm = await seedMessage(rotated);
      const byOld = signToken([{ id: 'k1', secret: 'old-secret-0123456789abcdef' }], { k: 'o', m: mm.id, r: mm.contactId });
      expect((await rotated.request('GET', `/t/o/${byOld}`, { key: null })).status).toBe(200);
      expect(mm.links.openPixel()).toContain('/t/o/k2.');
    } finally {
      await rotated.close();
    }
  });
});
