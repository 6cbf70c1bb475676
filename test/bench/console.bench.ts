import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createApp } from '../../src/app';
import { VirtualClock } from '../../src/common/clock';
import { loadConfig } from '../../src/config/config';
import { runMigrations } from '../../src/database/data-source';
import { ConsoleSummariesWorker } from '../../src/console/console-summaries.worker';
import { ConsoleClient } from '../console/session-client';
import { ROOT, TEST_KEYS } from '../support/app';
import { benchDatabase } from './bench-db';
import { generateConsoleData } from './console-data';
import { line, option, summary } from './report';

const NOW = '2026-11-20T03:00:00Z';
const TARGET_MS = 300;

/**
 * `npm run bench -- console [--accounts 100000] [--runs 15]`: server time of every console
 * page (the Server-Timing the console reports, measured from before the session check to the
 * last byte rendered) over 100,000 accounts, 1,000,000 contacts and ~10,000,000 events made
 * by a set-based generator. Baseline, same run: the /healthz round trip (one database query).
 * BENCH_DATABASE_URL=<server> reuses a server; --url <database> reuses generated data.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: string) => option(args, name, def);
  const accounts = Number(opt('accounts', '100000'));
  const runs = Number(opt('runs', '15'));
  const given = opt('url', '');
  const db = given ? { url: given, close: async () => {} } : await benchDatabase('console');
  if (given) await runMigrations(given); // reused data: bring its schema up to date
  const t0 = Date.now();
  const counts = await generateConsoleData(db.url, { accounts, now: new Date(NOW), log: (msg) => line({ step: msg }) });
  line({ generated: counts, ms: Date.now() - t0 });

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-bench-console-'));
  const config = loadConfig(
    {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      TOUCHLINE_ROLE: 'api',
      TOUCHLINE_REVIEW_KEY: TEST_KEYS.review,
      TOUCHLINE_ADMIN_KEY: TEST_KEYS.admin,
      TEMPLATES_DIR: path.join(ROOT, 'templates'),
      JOURNEYS_DIR: path.join(ROOT, 'journeys'),
    },
    { cwd: ROOT },
  );
  const app = await createApp({ config, clock: new VirtualClock(NOW), databaseUrl: db.url });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  try {
    // What the console worker does every CONSOLE_REFRESH_SECONDS on a worker process.
    const refreshed = await app.get(ConsoleSummariesWorker).refresh();
    line({ refresh_ms: refreshed });
    const c = new ConsoleClient(origin);
    const login = await c.login(TEST_KEYS.review, 'bench');
    if (login.status !== 303) throw new Error(`login failed: ${login.status}`);

    // Pages to time, with real ids from the data.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const pick = async (sql: string) => (await pg.query(sql)).rows[0];
    const mid = await pick(`SELECT external_id FROM accounts ORDER BY id OFFSET 50000 LIMIT 1`);
    const busy = await pick(`SELECT a.external_id FROM accounts a JOIN messages m ON m.account_id = a.id GROUP BY a.external_id ORDER BY count(*) DESC LIMIT 1`);
    const msg = await pick(`SELECT id, to_email FROM messages WHERE status = 'sent' ORDER BY id DESC LIMIT 1`);
    const journey = await pick(`SELECT journey_key FROM messages GROUP BY journey_key ORDER BY count(*) DESC LIMIT 1`);
    await pg.end();
    const second = /id="next-page" rel="next" href="([^"]+)"|href="([^"]+)" id="next-page"/.exec((await c.get('/console/accounts')).text);
    const page2 = second ? (second[1] ?? second[2]).replace(/&amp;/g, '&') : '/console/accounts';
    const pages: Record<string, string> = {
      'accounts (first page)': '/console/accounts',
      'accounts (page 2, keyset)': page2,
      'accounts unengaged 14 days': '/console/accounts?unengaged=14',
      'accounts unengaged 30 days, adoption': '/console/accounts?unengaged=30&phase=adoption',
      'accounts red band by health': '/console/accounts?band=red&sort=score_asc',
      'accounts by MRR, high-touch': '/console/accounts?sort=mrr&high_touch=yes',
      'accounts search': '/console/accounts?q=Hooli%2012',
      'account page (30 days)': `/console/accounts/${encodeURIComponent(mid.external_id)}`,
      'account page (busiest, 180 days)': `/console/accounts/${encodeURIComponent(busy.external_id)}?days=180`,
      'messages (first page)': '/console/messages',
      'messages by recipient': `/console/messages?recipient=${encodeURIComponent(msg.to_email)}`,
      'messages capped, date range': '/console/messages?status=capped&from=2026-10-01&to=2026-10-31',
      'message view': `/console/messages/${msg.id}`,
      'hand-offs inbox': '/console/handoffs',
      'journeys list': '/console/journeys',
      'journey report': `/console/journeys/${encodeURIComponent(journey.journey_key)}`,
    };
    let worst = 0;
    let worstPage = '';
    for (const [name, url] of Object.entries(pages)) {
      const times: number[] = [];
      for (let i = 0; i <= runs; i++) {
        const res = await c.get(url);
        if (res.status !== 200) throw new Error(`${name} (${url}): HTTP ${res.status}`);
        const dur = Number(/app;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1]);
        if (i > 0) times.push(dur); // the first request warms caches
      }
      times.sort((a, b) => a - b);
      const p50 = times[Math.floor(times.length / 2)];
      const p95 = times[Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1)];
      line({ page: name, url, p50_ms: p50, p95_ms: p95, max_ms: times[times.length - 1] });
      if (p95 > worst) [worst, worstPage] = [p95, name];
    }
    // CSV of every account (streamed): a download, not a page, reported for scale.
    const csvStart = performance.now();
    const csv = await c.get('/console/accounts.csv');
    line({ export: 'accounts.csv (all accounts)', rows: csv.text.trim().split('\r\n').length - 1, ms: Math.round(performance.now() - csvStart), bytes: csv.text.length });

    const floor: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const s = performance.now();
      const r = await fetch(`${origin}/healthz`);
      await r.arrayBuffer();
      if (i > 0) floor.push(performance.now() - s);
    }
    floor.sort((a, b) => a - b);
    const baseline = Math.round(floor[Math.min(floor.length - 1, Math.ceil(floor.length * 0.95) - 1)] * 10) / 10;
    summary({ bench: 'console', value: worst, unit: 'ms server time, p95 of the slowest page', baseline, ratio: Math.round((worst / baseline) * 10) / 10, target: `< ${TARGET_MS} ms every page`, slowest: worstPage, counts });
  } finally {
    await app.close();
    await db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
