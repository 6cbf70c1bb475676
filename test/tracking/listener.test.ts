import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fastHit, trackingListener } from '../../src/tracking/tracking-listener';
import { TrackingService } from '../../src/tracking/tracking.service';
import { signToken } from '../../src/tracking/tokens';
import { startTestApp, TestApp } from '../support/app';
import { events, pathOf, seedMessage, SeededMessage } from './fixtures';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const CURRENT = { id: 'k2', secret: 'listener-test-current-key-0123' };
const OLD = { id: 'k1', secret: 'listener-test-older-key-456789' };
const RETIRED = { id: 'k0', secret: 'listener-test-retired-key-abcd' };

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function listen(listener: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Status, headers (less the per-request ones) and body: what a client can observe. */
async function answer(base: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(base + path, { method, redirect: 'manual', headers: { 'user-agent': CHROME, ...headers } });
  const seen: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (!['date', 'x-request-id', 'connection', 'keep-alive'].includes(k)) seen[k] = v;
  });
  return { status: res.status, headers: seen, body: await res.text() };
}

/**
 * A GET on a connection of its own (no keep-alive reuse: a pooled socket that the server
 * closes for idleness while a busy machine is slow would be reset), answered when complete.
 */
function freshGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { 'user-agent': CHROME } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
  });
}

describe('opens and clicks served in front of Nest', () => {
  let t: TestApp;
  let nest: { url: string; close(): Promise<void> };
  let m: SeededMessage;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRACKING_KEYS: `${CURRENT.id}:${CURRENT.secret},${OLD.id}:${OLD.secret}`, TRACKING_RATE_PER_MINUTE: '1000000' } });
    // The Express application alone (Nest's pipeline, no listener in front): the reference.
    nest = await listen(t.app.getHttpAdapter().getInstance());
    m = await seedMessage(t);
  });
  afterAll(async () => {
    await nest.close();
    await t.close();
  });

  const token = (key: { id: string; secret: string }, payload: Record<string, unknown>) => signToken([key], { m: m.id, r: m.contactId, ...payload } as never);

  it('takes only plain GET/HEAD opens and clicks; everything else falls through to Nest', () => {
    const req = (method: string, url: string, headers: Record<string, string> = {}) => ({ method, url, headers }) as unknown as http.IncomingMessage;
    expect(fastHit(req('GET', '/t/o/k1.abc.def'))).toEqual({ kind: 'o', token: 'k1.abc.def' });
    expect(fastHit(req('HEAD', '/t/c/k1.abc.def?utm=x'))).toEqual({ kind: 'c', token: 'k1.abc.def' });
    for (const [method, url, headers] of [
      ['POST', '/t/o/k1.abc.def', {}],
      ['GET', '/t/p/k1.abc.def', {}],
      ['GET', '/t/o/', {}],
      ['GET', '/t/o/k1.a%62c.def', {}],
      ['GET', '/t/o/k1.abc.def/', {}],
      ['GET', '/T/O/k1.abc.def', {}],
      ['GET', '/healthz', {}],
      ['GET', '/t/o/k1.abc.def', { 'content-length': '3' }],
      ['GET', '/t/o/k1.abc.def', { 'transfer-encoding': 'chunked' }],
    ] as Array<[string, string, Record<string, string>]>) {
      expect(fastHit(req(method, url, headers))).toBeNull();
    }
  });

  it('answers exactly as Nest does for good, old-key, forged, retired-key, unknown-message and malformed tokens, and records the same', async () => {
    const good = token(CURRENT, { k: 'o' });
    const [keyId, body, sig] = token(CURRENT, { k: 'c', u: 'https://app.example.com/x?a=1' }).split('.');
    const cases: Array<[string, string, Record<string, string>?]> = [
      ['GET', `/t/o/${good}`],
      ['GET', `/t/o/${good}?cache=bust`],
      ['HEAD', `/t/o/${good}`],
      ['GET', `/t/o/${token(OLD, { k: 'o' })}`],
      ['GET', `/t/c/${keyId}.${body}.${sig}`],
      ['HEAD', `/t/c/${keyId}.${body}.${sig}`],
      ['GET', pathOf(m.links.honeypot()), { 'x-forwarded-for': '192.0.2.44' }],
      ['GET', `/t/o/${token(CURRENT, { k: 'o' }).slice(0, -2)}AA`],
      ['GET', `/t/c/${keyId}.${Buffer.from(JSON.stringify({ k: 'c', m: m.id, r: m.contactId, u: 'https://evil.example/' })).toString('base64url')}.${sig}`],
      ['GET', `/t/o/${token(RETIRED, { k: 'o' })}`],
      ['GET', `/t/c/${token(CURRENT, { k: 'o' })}`],
      ['GET', `/t/o/${signToken([CURRENT], { k: 'o', m: '999999999', r: m.contactId })}`],
      ['GET', `/t/c/${token(CURRENT, { k: 'c', u: 'javascript:alert(1)' })}`],
      ['GET', '/t/o/not-a-token', { 'accept-language': 'ja' }],
      ['GET', '/t/c/a.b.c'],
    ];
    for (const [method, path, headers] of cases) {
      const before = (await events(t, m.id)).length;
      const viaListener = await answer(t.url, path, method, headers);
      const recordedByListener = (await events(t, m.id)).length - before;
      const viaNest = await answer(nest.url, path, method, headers);
      const recordedByNest = (await events(t, m.id)).length - before - recordedByListener;
      expect({ path, ...viaListener, recorded: recordedByListener }).toEqual({ path, ...viaNest, recorded: recordedByNest });
    }
    // The cases cover both outcomes: answers that record and refusals that never redirect.
    expect((await answer(t.url, `/t/o/${good}`)).status).toBe(200);
    expect((await answer(t.url, `/t/c/${token(RETIRED, { k: 'c', u: 'https://app.example.com/' })}`)).status).toBe(404);
    const rows = await events(t, m.id);
    expect(rows.filter((r) => r.kind === 'open')).toHaveLength(2 * 4 + 1);
    expect(rows.filter((r) => r.kind === 'click' && r.url === 'https://app.example.com/x?a=1')).toHaveLength(2 * 2);
    expect(rows.some((r) => r.url === 'https://evil.example/')).toBe(false);
  });

  it('serves opens and clicks itself and hands every other request to Nest', async () => {
    const served: string[] = [];
    const own = await listen(
      trackingListener({
        tracking: t.app.get(TrackingService),
        clientIp: (req) => req.socket.remoteAddress,
        next: (req, res) => {
          served.push(req.url!);
          res.statusCode = 299;
          res.end('next');
        },
      }),
    );
    try {
      expect((await answer(own.url, pathOf(m.links.openPixel()))).status).toBe(200);
      expect((await answer(own.url, `/t/c/${token(RETIRED, { k: 'c', u: 'https://app.example.com/' })}`)).status).toBe(404);
      expect((await answer(own.url, pathOf(m.links.preferences()))).status).toBe(299);
      expect((await answer(own.url, '/healthz')).status).toBe(299);
      expect(served).toEqual([new URL(m.links.preferences()).pathname, '/healthz']);
    } finally {
      await own.close();
    }
  });

  it('keeps request ids: a caller’s id is echoed, otherwise a new one is made', async () => {
    const given = await fetch(t.url + pathOf(m.links.openPixel()), { headers: { 'x-request-id': 'req-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('req-abc.123');
    const made = await fetch(t.url + pathOf(m.links.openPixel()), { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('after N concurrent hits, exactly N events are stored, each answered only once it is', async () => {
    const messages = await Promise.all(Array.from({ length: 8 }, () => seedMessage(t)));
    const paths = messages.flatMap((x, i) => [
      ...Array.from({ length: 25 }, () => pathOf(x.links.openPixel())),
      ...Array.from({ length: 25 }, (_, j) => pathOf(x.links.track(`https://app.example.com/${i}/${j}`, 'cta'))),
    ]);
    const ids = messages.map((x) => x.id);
    const count = async () => (await t.db.query(`SELECT kind, count(*)::int AS n FROM engagement_events WHERE message_id = ANY($1::bigint[]) GROUP BY kind ORDER BY kind`, [ids])) as Array<{ kind: string; n: number }>;
    // When the k-th answer arrives, at least k events are committed: each answer waits for its own.
    let answered = 0;
    const shortfalls: Array<{ answered: number; stored: number }> = [];
    const statuses = await Promise.all(
      paths.map(async (p) => {
        const status = await freshGet(t.url + p);
        const k = ++answered;
        const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM engagement_events WHERE message_id = ANY($1::bigint[])`, [ids]);
        if (n < k) shortfalls.push({ answered: k, stored: n });
        return status;
      }),
    );
    expect(shortfalls).toEqual([]);
    expect(statuses.filter((s) => s === 200)).toHaveLength(200);
    expect(statuses.filter((s) => s === 302)).toHaveLength(200);
    expect(await count()).toEqual([
      { kind: 'click', n: 200 },
      { kind: 'open', n: 200 },
    ]);
    for (const x of messages) expect(await events(t, x.id)).toHaveLength(50);
  });

  it('first hits on many messages at once share lookups: each hit gets its own message, and a bad one is refused alone', async () => {
    const messages = await Promise.all(Array.from({ length: 12 }, () => seedMessage(t)));
    const other = await seedMessage(t);
    const [{ max }] = await t.db.query(`SELECT max(id)::text AS max FROM messages`);
    const sign = (payload: Record<string, unknown>) => `/t/o/${signToken([CURRENT], { k: 'o', ...payload } as never)}`;
    const paths = [
      ...messages.map((x) => pathOf(x.links.openPixel())),
      sign({ m: String(BigInt(max) + 1000n), r: m.contactId }), // no such message
      sign({ m: other.id, r: messages[0].contactId }), // another recipient's message
    ];
    const statuses = await Promise.all(paths.map((p) => freshGet(t.url + p)));
    expect(statuses).toEqual([...messages.map(() => 200), 404, 404]);
    for (const x of messages) expect((await events(t, x.id)).map((e) => [e.kind, e.contact_id, e.account_id])).toEqual([['open', x.contactId, x.accountId]]);
    expect(await events(t, other.id)).toHaveLength(0);
  });
});
