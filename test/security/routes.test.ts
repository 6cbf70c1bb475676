import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { RATE_GROUP_KEY } from '../../src/auth/rate-limit.guard';
import { PUBLIC_KEY, SCOPE_KEY } from '../../src/auth/scopes.decorator';
import { ConsoleSessionGuard } from '../../src/console/console-session.guard';
import { startTestApp, TEST_KEYS, TestApp } from '../support/app';

/**
 * Every route the Nest application registers — read from Nest's own discovery and checked
 * against the routes Express actually serves, never from a hand-kept list — is either:
 * - an API route with a scope: no key → 401, a key of another scope → 403, its scope (and
 *   admin) → accepted, never a 5xx;
 * - a console page behind the session guard: no session → redirect to login (GET) or 401;
 * - or public, and then it is on the allowlist below. A new route without a scope, or a new
 *   public route, fails this test until someone decides what it is.
 */
const PUBLIC_ALLOWLIST: Record<string, { limited: boolean }> = {
  'GET /healthz': { limited: false },
  'GET /u/:token': { limited: true },
  'POST /u/:token': { limited: true },
  'GET /t/o/:token': { limited: true },
  'GET /t/c/:token': { limited: true },
  'GET /t/p/:token': { limited: true },
  'POST /t/p/:token': { limited: true },
  'GET /t/s/:token': { limited: true },
  'POST /t/s/:token': { limited: true },
  'POST /webhooks/ses': { limited: true },
  'POST /webhooks/sendgrid': { limited: true },
  'POST /webhooks/postmark': { limited: true },
  'GET /console': { limited: false },
  'GET /console/login': { limited: false },
  'POST /console/login': { limited: true },
  'GET /console/lang/:lang': { limited: false },
  'GET /console/assets/console.css': { limited: false },
  'GET /console/assets/console.js': { limited: false },
};
/**
 * Served by Express outside Nest's controllers: Swagger UI (public documentation, no data) and
 * the catch-all that answers 404 for every unknown path (checked below).
 */
const NON_NEST_ALLOWLIST = [/^\/docs/, /^\/\{\*path\}$/];

type Scope = keyof typeof TEST_KEYS;
interface Route {
  method: string;
  path: string;
  kind: 'scope' | 'console' | 'public';
  scope?: Scope;
  rateGroup?: string;
}

function discoverRoutes(t: TestApp): Route[] {
  const discovery = t.app.get(DiscoveryService);
  const scanner = t.app.get(MetadataScanner);
  const out: Route[] = [];
  for (const wrapper of discovery.getControllers()) {
    const cls = wrapper.metatype as (new (...a: unknown[]) => unknown) | undefined;
    if (!cls || !wrapper.instance) continue;
    const prefixes = [Reflect.getMetadata(PATH_METADATA, cls) ?? ''].flat() as string[];
    const proto = Object.getPrototypeOf(wrapper.instance);
    for (const name of scanner.getAllMethodNames(proto)) {
      const handler = proto[name];
      const paths = Reflect.getMetadata(PATH_METADATA, handler);
      if (paths === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const meta = <T>(key: string): T | undefined => Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, cls);
      const guards = [...(Reflect.getMetadata(GUARDS_METADATA, cls) ?? []), ...(Reflect.getMetadata(GUARDS_METADATA, handler) ?? [])];
      for (const prefix of prefixes) {
        for (const p of [paths].flat() as string[]) {
          const path = ('/' + [prefix, p].filter(Boolean).join('/')).replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
          const scope = meta<Scope>(SCOPE_KEY);
          const isPublic = meta<boolean>(PUBLIC_KEY);
          const kind = !isPublic ? 'scope' : guards.includes(ConsoleSessionGuard) ? 'console' : 'public';
          out.push({ method, path, kind, scope, rateGroup: meta<string>(RATE_GROUP_KEY) });
        }
      }
    }
  }
  return out.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

/** Routes Express serves (what a client can reach), as "METHOD /path". */
function expressRoutes(t: TestApp): string[] {
  const router = (t.app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router;
  return router.stack.flatMap((l) => (l.route ? Object.keys(l.route.methods).filter((m) => m !== '_all').map((m) => `${m.toUpperCase()} ${l.route!.path}`) : []));
}

const concrete = (path: string) => path.replace(/:token/g, 'k1.e30.AAAA').replace(/:lang/g, 'en').replace(/:[A-Za-z]+/g, '1');

describe('every route: scope, session or public allowlist', () => {
  let t: TestApp;
  let routes: Route[];
  beforeAll(async () => {
    t = await startTestApp();
    routes = discoverRoutes(t);
  });
  afterAll(() => t.close());

  it('discovery sees every route Express serves (nothing is registered around Nest except the allowlisted docs)', async () => {
    const discovered = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const served = expressRoutes(t);
    expect(routes.length).toBeGreaterThan(40);
    const unknown = served.filter((s) => !discovered.has(s) && !NON_NEST_ALLOWLIST.some((re) => re.test(s.split(' ')[1])));
    expect(unknown).toEqual([]);
    for (const d of discovered) expect(served).toContain(d);
    const unknownPath = await t.request('POST', '/no-such-route/x', { key: 'admin', body: {} });
    expect(unknownPath.status).toBe(404);
  });

  it('public routes are exactly the allowlist', () => {
    expect(routes.filter((r) => r.kind === 'public').map((r) => `${r.method} ${r.path}`).sort()).toEqual(Object.keys(PUBLIC_ALLOWLIST).sort());
  });

  it('every other API route declares a scope', () => {
    expect(routes.filter((r) => r.kind === 'scope' && !r.scope).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('scoped routes: no key 401, another scope 403, its own scope and admin accepted, never a 5xx', async () => {
    const scoped = routes.filter((r) => r.kind === 'scope');
    for (const r of scoped) {
      const path = concrete(r.path);
      const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : {};
      const none = await t.request(r.method, path, { key: null, body });
      expect(`${r.method} ${r.path} → ${none.status}`).toBe(`${r.method} ${r.path} → 401`);
      const wrong = (Object.keys(TEST_KEYS) as Scope[]).filter((s) => s !== r.scope && s !== 'admin');
      for (const w of wrong) {
        const res = await t.request(r.method, path, { key: w, body });
        expect(`${r.method} ${r.path} with ${w} → ${res.status}`).toBe(`${r.method} ${r.path} with ${w} → 403`);
      }
      const garbage = await t.request(r.method, path, { key: null, body, headers: { authorization: `Bearer ${TEST_KEYS[r.scope!]}x` } });
      expect(`${r.method} ${r.path} altered key → ${garbage.status}`).toBe(`${r.method} ${r.path} altered key → 403`);
      for (const ok of [r.scope!, 'admin' as const]) {
        const res = await t.request(r.method, path, { key: ok, body });
        if ([401, 403].includes(res.status) || res.status >= 500) throw new Error(`${r.method} ${r.path} refused its own scope ${ok}: ${res.status} ${res.text.slice(0, 300)}`);
      }
    }
  }, 180_000);

  it('console pages without a session: GET redirects to login, POST is 401; API keys do not open them', async () => {
    const pages = routes.filter((r) => r.kind === 'console');
    expect(pages.length).toBeGreaterThan(5);
    for (const r of pages) {
      const path = concrete(r.path);
      for (const key of [null, 'admin' as const]) {
        const res = await t.request(r.method, path, { key, body: r.method === 'POST' ? {} : undefined });
        if (r.method === 'GET') {
          expect(`${r.path} ${res.status} ${res.headers.get('location')?.startsWith('/console/login')}`).toBe(`${r.path} 303 true`);
        } else expect(`${r.method} ${r.path} ${res.status}`).toBe(`${r.method} ${r.path} 401`);
      }
    }
  }, 120_000);
});

describe('rate limits on every public route that is not a static page', () => {
  let t: TestApp;
  const LIMIT = 3;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        TRACKING_RATE_PER_MINUTE: String(LIMIT),
        TRACKING_PAGE_RATE_PER_MINUTE: String(LIMIT),
        UNSUBSCRIBE_RATE_PER_MINUTE: String(LIMIT),
        CONSOLE_LOGIN_RATE_PER_MINUTE: String(LIMIT),
        WEBHOOK_RATE_PER_MINUTE: String(LIMIT),
      },
    });
  });
  afterAll(() => t.close());

  // Rate-limited routes that also need an API key (the webhooks relays and inbound-mail services call).
  const KEYED_LIMITED = ['/webhooks/generic', '/webhooks/inbound'];

  it('answers 429 with Retry-After past the limit, and serves again in the next window', async () => {
    const limited = discoverRoutes(t).filter((r) => PUBLIC_ALLOWLIST[`${r.method} ${r.path}`]?.limited || r.rateGroup);
    expect(limited.length).toBe(Object.values(PUBLIC_ALLOWLIST).filter((v) => v.limited).length + KEYED_LIMITED.length);
    t.clock.set(new Date('2026-11-20T03:00:00Z'));
    for (const r of limited) {
      const path = concrete(r.path);
      const send = () => t.request(r.method, path, { key: KEYED_LIMITED.includes(r.path) ? 'ingest' : null, body: r.method === 'POST' ? {} : undefined });
      // Tracking GETs share one counter per purpose, webhooks one per group: the limit may already be spent.
      let last = await send();
      for (let i = 0; i < LIMIT && last.status !== 429; i++) last = await send();
      expect(`${r.method} ${r.path} → ${last.status}`).toBe(`${r.method} ${r.path} → 429`);
      expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(last.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    }
    for (const r of limited) {
      t.clock.advance(60_000); // routes of one group share a counter: each check gets a fresh window
      const res = await t.request(r.method, concrete(r.path), { key: KEYED_LIMITED.includes(r.path) ? 'ingest' : null, body: r.method === 'POST' ? {} : undefined });
      expect(`${r.method} ${r.path} → ${res.status === 429 ? 429 : 'served'}`).toBe(`${r.method} ${r.path} → served`);
    }
  }, 120_000);
});
