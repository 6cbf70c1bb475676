import * as http from 'node:http';
import { Client } from 'pg';
import { TEST_KEYS } from '../support/app';
import { benchDatabase } from './bench-db';
import { cpuMeter, processCpuSeconds, treeCpuSeconds } from './cpu-usage';
import { line, numberOption, summary } from './report';
import { startService } from './service-process';

const EVENTS = ['login', 'report_created', 'dashboard_viewed', 'mail_sent', 'export_csv', 'workflow_created'];

/**
 * `npm run bench -- ingest [--events 1000000] [--concurrency 8] [--cpu-prof]`: Segment batches
 * of 100 track events over HTTP against the service in its own process, rollups maintained,
 * versus single-event /v1/track calls measured in the same run. The load generator is kept
 * light (bodies written as strings, one keep-alive socket per worker) so that it takes little
 * of the CPU the service and PostgreSQL share with it; CPU seconds of each are reported.
 * `--cpu-prof` writes a V8 profile of the service into the working directory.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: number) => numberOption(args, name, def);
  const total = opt('events', 1_000_000);
  const concurrency = opt('concurrency', 8);
  const baselineEvents = opt('baseline-events', 5000);
  const accounts = 1000;
  const usersPerAccount = 10;
  const db = await benchDatabase('ingest');
  const svc = await startService(db.url, { DATABASE_POOL_SIZE: String(concurrency + 4) }, args.includes('--cpu-prof') ? ['--cpu-prof'] : []);
  const auth = 'Basic ' + Buffer.from(`${TEST_KEYS.ingest}:`).toString('base64');
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const post = (path: string, body: unknown) =>
    new Promise<void>((resolve, reject) => {
      const payload = typeof body === 'string' ? body : JSON.stringify(body);
      const req = http.request(
        svc.url + path,
        { method: 'POST', agent, headers: { authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const cpu = {
    service: cpuMeter(() => processCpuSeconds(svc.pid)),
    postgres: cpuMeter(() => (db.serverPid() ? treeCpuSeconds(db.serverPid()!) : 0)),
    loadGenerator: cpuMeter(() => process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6),
  };
  const cpuUsed = (events: number) =>
    Object.fromEntries(Object.entries(cpu).map(([k, m]) => [k, { seconds: m.used(), perMillionEvents: Math.round((m.used() / events) * 1e6) }]));
  try {
    // People and accounts first (as a CDP would have sent them).
    for (let a = 0; a < accounts; a += 10) {
      const batch = [];
      for (let i = a; i < a + 10; i++)
        for (let u = 0; u < usersPerAccount; u++) batch.push({ type: 'group', userId: `u-${i}-${u}`, groupId: `acct-${i}`, traits: { name: `Account ${i}` } });
      await post('/v1/batch', { batch });
    }
    let seq = 0;
    const now = Date.now();
    const days = Array.from({ length: 60 }, (_, d) => JSON.stringify(new Date(now - d * 86_400_000).toISOString()));
    // One track event as JSON text (what JSON.stringify of the object would give, without building it).
    const event = () => {
      const n = seq++;
      const acct = n % accounts;
      return (
        `{"type":"track","userId":"u-${acct}-${(n >> 10) % usersPerAccount}","event":"${EVENTS[n % EVENTS.length]}",` +
        `"messageId":"bench-${n}","timestamp":${days[n % 60]},"properties":{"plan":"growth","source":"bench","n":${n}}}`
      );
    };
    const drive = async (count: number, perRequest: number, send: (events: string[]) => Promise<void>, onTick?: () => void) => {
      let sent = 0;
      const started = process.hrtime.bigint();
      const worker = async () => {
        while (sent < count) {
          const k = Math.min(perRequest, count - sent);
          sent += k;
          const events = Array.from({ length: k }, event);
          await send(events);
          onTick?.();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return count / (Number(process.hrtime.bigint() - started) / 1e9);
    };

    Object.values(cpu).forEach((m) => m.restart());
    const baseline = await drive(baselineEvents, 1, (events) => post('/v1/track', events[0]));
    line({ phase: 'baseline', mode: 'single /v1/track', events: baselineEvents, eventsPerSec: Math.round(baseline), cpu: cpuUsed(baselineEvents) });

    let peakRss = svc.rssMb();
    let done = 0;
    let lastReport = Date.now();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, svc.rssMb())), 250);
    const stats = new Client({ connectionString: db.url });
    await stats.connect();
    const dbStats = async () =>
      (
        await stats.query<{ wal: string; commits: string }>(
          `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') AS wal, (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits`,
        )
      ).rows[0];
    const before = await dbStats();
    const groupCommits = async () => {
      const metrics = await (await fetch(svc.url + '/metrics', { headers: { authorization: `Bearer ${TEST_KEYS.admin}` } })).text();
      const counted = (what: string) => Number(new RegExp(`touchline_ingest_statements_total\\{count="${what}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
      return { requests: counted('requests'), statements: counted('statements') };
    };
    const groupedBefore = await groupCommits();
    Object.values(cpu).forEach((m) => m.restart());
    const rate = await drive(total, 100, (events) => post('/v1/batch', `{"batch":[${events.join(',')}]}`), () => {
      done += 100;
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        line({ phase: 'batch', progress: done, rssMb: svc.rssMb() });
      }
    });
    clearInterval(sampler);
    const batchCpu = cpuUsed(total);
    const grouped = await groupCommits();
    const requestsPerStatement = Math.round(((grouped.requests - groupedBefore.requests) / (grouped.statements - groupedBefore.statements)) * 100) / 100;
    await new Promise((r) => setTimeout(r, 600)); // pg_stat_database is updated at most every 500 ms
    const after = await dbStats();
    await stats.end();
    const walBytesPerEvent = Math.round((Number(after.wal) - Number(before.wal)) / total);
    const transactionsPerBatch = Math.round(((Number(after.commits) - Number(before.commits)) / (total / 100)) * 100) / 100;
    line({ phase: 'batch', walBytesPerEvent, transactionsPerBatch, requestsPerStatement });
    line({ phase: 'batch', mode: 'batches of 100 /v1/batch', events: total, concurrency, eventsPerSec: Math.round(rate), peakRssMb: peakRss, cpu: batchCpu });

    const c = new Client({ connectionString: db.url });
    await c.connect();
    const [{ events, rolled }] = (
      await c.query(`SELECT (SELECT count(*) FROM events WHERE type = 'track') AS events, (SELECT sum(count) FROM event_rollups) AS rolled`)
    ).rows;
    await c.end();
    const expected = total + baselineEvents;
    line({ check: 'stored', events: Number(events), rolledUp: Number(rolled), expected, ok: Number(events) === expected && Number(rolled) === expected });
    summary({
      bench: 'ingest',
      value: Math.round(rate),
      unit: 'events/s',
      baseline: Math.round(baseline),
      ratio: Math.round((rate / baseline) * 10) / 10,
      target: '>= 20000 events/s over 1,000,000 events, service RSS < 400 MB',
      peakRssMb: peakRss,
      events: total,
      walBytesPerEvent,
      cpuSecondsPerMillionEvents: Object.fromEntries(Object.entries(batchCpu).map(([k, v]) => [k, v.perMillionEvents])),
    });
  } finally {
    agent.destroy();
    await svc.stop();
    await db.close();
  }
}
