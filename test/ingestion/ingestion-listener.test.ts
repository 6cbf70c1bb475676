import type { IncomingMessage } from 'node:http';
import { fastIngest } from '../../src/ingestion/ingestion-listener';
import { startTestApp, TestApp, TEST_KEYS } from '../support/app';

const req = (method: string, url: string, headers: Record<string, string> = {}) =>
  ({ method, url, headers: { 'content-type': 'application/json', 'content-length': '20', ...headers } }) as unknown as IncomingMessage;

describe('raw ingestion listener', () => {
  it('takes only the plain form of the Segment calls; everything else goes to Nest', () => {
    expect(fastIngest(req('POST', '/v1/batch'), 1000)).toEqual({ route: 'batch', path: '/v1/batch' });
    expect(fastIngest(req('POST', '/v1/import?x=1'), 1000)).toEqual({ route: 'batch', path: '/v1/import' });
    expect(fastIngest(req('POST', '/v1/track', { 'content-type': 'text/plain; charset=UTF-8' }), 1000)).toEqual({ route: 'track', path: '/v1/track' });
    expect(fastIngest(req('POST', '/v1/identify', { 'content-type': 'application/json;charset="utf-8"' }), 1000)?.route).toBe('identify');
    expect(fastIngest(req('POST', '/v1/group', { 'content-length': '1000' }), 1000)?.route).toBe('group');
    const declined: [string, string, Record<string, string>][] = [
      ['GET', '/v1/batch', {}],
      ['PUT', '/v1/batch', {}],
      ['POST', '/v1/batch/', {}],
      ['POST', '/V1/batch', {}],
      ['POST', '/v1/page', {}],
      ['POST', '/v1/__proto__', {}],
      ['POST', '/v1/batch', { 'content-length': '1001' }],
      ['POST', '/v1/batch', { 'content-length': '1e3' }],
      ['POST', '/v1/batch', { 'transfer-encoding': 'chunked' }],
      ['POST', '/v1/batch', { 'content-encoding': 'gzip' }],
      ['POST', '/v1/batch', { 'content-type': 'application/vnd.segment+json' }],
      ['POST', '/v1/batch', { 'content-type': 'application/json; charset=latin1' }],
      ['POST', '/v1/batch', { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [method, url, headers] of declined) expect([method, url, headers, fastIngest(req(method, url, headers), 1000)]).toEqual([method, url, headers, null]);
    const noLength = req('POST', '/v1/batch');
    delete noLength.headers['content-length'];
    expect(fastIngest(noLength, 1000)).toBeNull();
  });

  describe('answers as Nest answers', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ now: '2026-11-20T03:00:00Z' });
    });
    afterAll(() => t.close());

    /** The same request through the raw listener (application/json) and through Nest (a +json type the listener declines). */
    async function both(path: string, body: (tag: string) => string, authorization: string | null) {
      const send = async (tag: string, contentType: string) => {
        const headers: Record<string, string> = { 'content-type': contentType };
        if (authorization) headers.authorization = authorization;
        const res = await t.request('POST', path, { raw: body(tag), key: null, headers });
        const id = res.headers.get('x-request-id');
        return { status: res.status, body: res.body, contentType: res.headers.get('content-type'), auth: res.headers.get('www-authenticate'), requestId: !!id && id.length > 8 };
      };
      return { fast: await send('f', 'application/json'), nest: await send('n', 'application/vnd.segment+json') };
    }

    const basic = (key: string) => 'Basic ' + Buffer.from(`${key}:`).toString('base64');
    const track = (tag: string, i: number, extra = '') => `{"type":"track","userId":"u-${i}","event":"e","messageId":"${tag}-${i}"${extra}}`;
    const bodies: [string, (tag: string) => string][] = [
      ['/v1/batch', (tag) => `{"batch":[${track(tag, 1)},${track(tag, 2)}]}`],
      ['/v1/batch', (tag) => `{"batch":[${track(tag, 3)},{"type":"track","userId":"u","event":""},{"type":"identify"},{"type":"page"},7]}`],
      ['/v1/batch', (tag) => `{"batch":[${track(tag, 4)},{"type":"group","userId":"u-4","groupId":"acme-${tag}"},{"type":"identify","userId":"u-4","traits":{"email":"a@b.c","tag":"${tag}"}}]}`],
      ['/v1/import', (tag) => `{"batch":[${track(tag, 5, ',"timestamp":"2026-11-19T00:00:00Z"')}]}`],
      ['/v1/batch', () => `{"batch":[]}`],
      ['/v1/batch', () => `{"batch":[{"event":""}]}`],
      ['/v1/batch', () => `{"batch":{}}`],
      ['/v1/batch', () => `{"batch": [`],
      ['/v1/batch', () => ` "x"`],
      ['/v1/batch', () => ``],
      ['/v1/batch', () => `[]`],
      ['/v1/batch', (tag) => `{"batch":[${track(tag, 6, ',"properties":{"n":"\\u0000"}')}, ${track(tag, 7)}]}`],
      ['/v1/track', (tag) => track(tag, 8)],
      ['/v1/track', () => `{"userId":"u"}`],
      ['/v1/identify', (tag) => `{"userId":"u-${tag}","traits":{"email":"x@y.z","plan":"p"}}`],
      ['/v1/identify', () => `{"traits":{}}`],
      ['/v1/group', (tag) => `{"userId":"u-${tag}","groupId":"g-${tag}","traits":{"name":"G"}}`],
      ['/v1/group', () => `{"userId":"u","groupId":""}`],
    ];

    it('same status, body and headers (plus a request id always) for accepted, rejected and malformed calls, with every kind of key', async () => {
      for (const authorization of [basic(TEST_KEYS.ingest), `Bearer ${TEST_KEYS.admin}`, basic(TEST_KEYS.review), null]) {
        for (const [path, body] of bodies) {
          const { fast, nest } = await both(path, body, authorization);
          // Nest gives no request id when its body parser refuses the body (pino-http runs after it); the raw path always does.
          expect(fast.requestId).toBe(true);
          expect([path, body('f'), authorization, { ...fast, requestId: undefined }]).toEqual([path, body('f'), authorization, { ...nest, requestId: undefined }]);
        }
      }
    });

    it('stores what the raw path accepted, and only after the answer names it', async () => {
      const res = await t.request('POST', '/v1/batch', { body: { batch: [{ type: 'track', userId: 'u-s', event: 'stored', messageId: 'stored-1' }] }, key: 'ingest' });
      expect(res.body).toEqual({ success: true, accepted: 1, duplicates: 0, rejected: [] });
      expect(await t.db.query(`SELECT name FROM events WHERE message_id = 'stored-1'`)).toEqual([{ name: 'stored' }]);
    });
  });
});
