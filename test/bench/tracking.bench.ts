import autocannon from 'autocannon';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Client } from 'pg';
import { SignedLinkBuilder } from '../../src/tracking/link-builder';
import { benchDatabase } from './bench-db';
import { line, numberOption, option, summary } from './report';
import { startService } from './service-process';

const KEYS = [{ id: 'kb', secret: 'bench-tracking-secret-0123456789' }];
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

interface Run {
  /** CPU per 1,000 requests (ms) of the service and of PostgreSQL: what the code costs, whatever else shares the machine. */
  cpuMsPer1k?: CpuSample;
  /** Transactions committed in the database per 1,000 requests (hits share a commit under group commit). */
  commitsPer1k?: number;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  other: number;
}

function stat(pid: number): { ppid: number; cpuMs: number; childrenCpuMs: number } | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime (own), cutime and cstime (children that exited), in ticks of 1/100 s
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, childrenCpuMs: (Number(fields[13]) + Number(fields[14])) * 10 };
  } catch {
    return null;
  }
}

/** The postmaster listening on `port` (its command line names the port). */
function postmaster(port: string): number | null {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('/postgres') && cmd.includes(`port=${port}`)) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** Whether a PostgreSQL child is a client backend (its title names a database user), not a background process. */
function isBackend(pid: number): boolean {
  try {
    return !/^postgres: (walwriter|checkpointer|background writer|autovacuum|logical replication|walsender|archiver|startup|io worker)/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

interface CpuSample {
  service: number;
  /** PostgreSQL: postmaster and every child. */
  postgres: number;
  /** …of which its background processes running at both samples (WAL writer, checkpointer, autovacuum, …). */
  postgresBackground: number;
  /** …of which children that exited meanwhile (autovacuum workers, pool connections closed when idle). */
  postgresExited: number;
  /** This process: autocannon runs in it (on the same cores as the service and PostgreSQL). */
  loadGenerator: number;
}

/** CPU time (user + system, ms) used so far by the service process, by PostgreSQL (postmaster and children) and by this process. */
function cpuMs(servicePid: number, pgPid: number | null): CpuSample {
  let postgres = 0;
  let postgresBackground = 0;
  let postgresExited = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (!s || !pgPid) continue;
    // The postmaster's children-time keeps the CPU of children that have exited (autovacuum workers, idle pool connections).
    if (Number(name) === pgPid) {
      postgres += s.cpuMs + s.childrenCpuMs;
      postgresExited += s.childrenCpuMs;
    } else if (s.ppid === pgPid) {
      postgres += s.cpuMs;
      if (!isBackend(Number(name))) postgresBackground += s.cpuMs;
    }
  }
  const own = process.cpuUsage();
  return { service: stat(servicePid)?.cpuMs ?? 0, postgres, postgresBackground, postgresExited, loadGenerator: (own.user + own.system) / 1000 };
}

const loadAverage = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

function load(url: string, paths: string[], connections: number, amount: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        // A fixed number of requests (not a duration): every request is answered and counted.
        amount,
        headers: { 'user-agent': UA },
        // Each connection cycles through distinct messages' links.
        requests: paths.map((path) => ({ method: 'GET', path })),
      },
      (err, r) => {
        if (err) return reject(err);
        const ok = r['2xx'] + r['3xx'];
        resolve({ rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, ok, other: r['1xx'] + r['4xx'] + r['5xx'] + r.errors + r.timeouts });
      },
    );
  });
}

/**
 * `npm run bench -- tracking [--requests 60000] [--connections 20] [--messages 2000] [--cpu-prof DIR]`: HTTP load
 * on the open pixel and the click redirect of the service in its own process, then every
 * answered hit is counted in engagement_events. Baseline in the same run: /healthz (the
 * same process, through the whole Nest/Express pipeline, one database round trip, no
 * tracking work); opens and clicks are answered by the listener in front of Nest. Each
 * phase reports CPU per 1,000 requests of the service, of PostgreSQL and of this process
 * (autocannon runs in it, on the same cores), and commits per 1,000 requests (hits per
 * group commit). Load: `--connections` keep-alive connections, one request at a time on
 * each (no pipelining: browsers and mail proxies do not pipeline).
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: number) => numberOption(args, name, def);
  const requests = opt('requests', 60_000);
  const connections = opt('connections', 20);
  const messages = opt('messages', 2000);
  // `--cpu-prof DIR`: the service writes a V8 CPU profile there when it stops.
  const profileDir = option(args, 'cpu-prof', '');
  const db = await benchDatabase('tracking');
  const svc = await startService(db.url, {
    TRACKING_KEYS: KEYS.map((k) => `${k.id}:${k.secret}`).join(','),
    TRACKING_RATE_PER_MINUTE: '100000000',
    TOUCHLINE_ROLE: 'api',
    DATABASE_POOL_SIZE: '16',
  }, profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []);
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    const now = new Date();
    await c.query(
      `WITH a AS (INSERT INTO accounts (external_id, name, created_at, updated_at) SELECT 'acct-' || i, 'Account ' || i, $1, $1 FROM generate_series(1, $2) i RETURNING id, external_id),
            p AS (INSERT INTO contacts (external_id, account_id, email, locale, created_at, updated_at) SELECT 'u-' || a.external_id, a.id, a.external_id || '@bench.example', 'ja', $1, $1 FROM a RETURNING id, account_id, email)
       INSERT INTO messages (idempotency_key, account_id, contact_id, to_email, template, locale, category, status, scheduled_at, created_at, updated_at, sent_at)
       SELECT 'bench-' || p.id, p.account_id, p.id, p.email, 'welcome', 'ja', 'marketing', 'sent', $1, $1, $1, $1 - interval '1 day' FROM p`,
      [now, messages],
    );
    const rows = (await c.query(`SELECT id::text, contact_id::text FROM messages ORDER BY id`)).rows as Array<{ id: string; contact_id: string }>;
    const path = (u: string) => new URL(u).pathname;
    const opens = rows.map((r) => path(new SignedLinkBuilder(KEYS, svc.url, r.id, r.contact_id).openPixel()));
    const clicks = rows.map((r, i) => path(new SignedLinkBuilder(KEYS, svc.url, r.id, r.contact_id).track(`https://app.example.com/reports/${i}?utm_source=touchline`, 'cta')));

    // Warm up (JIT, pool connections, message cache), then measure.
    await load(svc.url, opens.slice(0, 200), connections, 5000);
    await load(svc.url, ['/healthz'], connections, 2000);
    await c.query(`TRUNCATE engagement_events`);

    const pg = postmaster(new URL(db.url).port);
    // Committed transactions of the bench database (this client's own reads add one each).
    const commits = async () => Number((await c.query(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`)).rows[0].xact_commit);
    const measured = async (paths: string[]): Promise<Run> => {
      const commitsBefore = await commits();
      const before = cpuMs(svc.pid, pg);
      const r = await load(svc.url, paths, connections, requests);
      const after = cpuMs(svc.pid, pg);
      // An idle backend reports its commits to the statistics within 10 s (PGSTAT_IDLE_INTERVAL).
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      const committed = (await commits()) - commitsBefore - 1;
      const per1k = (k: keyof CpuSample) => Math.round(((after[k] - before[k]) / requests) * 10_000) / 10;
      return {
        ...r,
        commitsPer1k: Math.round((committed / requests) * 10_000) / 10,
        cpuMsPer1k: { service: per1k('service'), postgres: per1k('postgres'), postgresBackground: per1k('postgresBackground'), postgresExited: per1k('postgresExited'), loadGenerator: per1k('loadGenerator') },
      };
    };
    const baseline = await measured(['/healthz']);
    line({ phase: 'baseline', endpoint: '/healthz', connections, ...baseline, loadAverage: loadAverage() });
    const open = await measured(opens);
    line({ phase: 'open', endpoint: '/t/o/:token', connections, ...open, loadAverage: loadAverage() });
    const click = await measured(clicks);
    line({ phase: 'click', endpoint: '/t/c/:token', connections, ...click, loadAverage: loadAverage() });

    const [{ opens: storedOpens, clicks: storedClicks }] = (
      await c.query(`SELECT count(*) FILTER (WHERE kind = 'open')::int AS opens, count(*) FILTER (WHERE kind = 'click')::int AS clicks FROM engagement_events`)
    ).rows;
    const allRecorded = storedOpens === open.ok && storedClicks === click.ok && open.other === 0 && click.other === 0;
    line({ check: 'recorded', opensAnswered: open.ok, opensStored: storedOpens, clicksAnswered: click.ok, clicksStored: storedClicks, ok: allRecorded });
    const rps = Math.min(open.rps, click.rps);
    const p99 = Math.max(open.p99, click.p99);
    summary({
      bench: 'tracking',
      value: rps,
      unit: 'req/s',
      baseline: baseline.rps,
      ratio: Math.round((rps / baseline.rps) * 100) / 100,
      target: '>= 3000 req/s on open and click, p99 < 50 ms, every event recorded',
      openRps: open.rps,
      clickRps: click.rps,
      p99Ms: p99,
      baselineP99Ms: baseline.p99,
      cpuMsPer1k: { baseline: baseline.cpuMsPer1k, open: open.cpuMsPer1k, click: click.cpuMsPer1k },
      allRecorded,
      met: rps >= 3000 && p99 < 50 && allRecorded,
      loadAverage: loadAverage(),
    });
  } finally {
    await c.end();
    await svc.stop();
    await db.close();
  }
}
