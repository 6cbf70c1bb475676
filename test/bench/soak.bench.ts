import * as os from 'node:os';
import { Client } from 'pg';
import { line, numberOption, option, summary } from './report';
import { startService, ServiceProcess } from './service-process';
import { startSinkProcess } from './smtp-sink-process';
import { DATA_NOW, soakDatabase } from './soak-data';
import { IngestLoad, paced, percentiles, TrackingLoad } from './soak-load';
import { DbProbe, memoryGrowth, RssSeries } from './soak-report';

const KEYS = [{ id: 'ks', secret: 'soak-tracking-secret-0123456789' }];

/**
 * `npm run bench -- soak [--days 30] [--minutes 12] [--workers 2] [--accounts 100000]
 * [--contacts-per-account 5] [--events-per-account 30] [--ingest-rate 200] [--batch 50]
 * [--tracking-rate 40] [--send-rate 100] [--send-window always] [--report 30] [--fresh]`
 *
 * Everything together, in real processes, for a compressed period: one API process
 * (ingestion, tracking) and `--workers` worker processes (journey engine, dispatcher, health)
 * on the same virtual clock (CLOCK=scaled: `--days` virtual days in `--minutes` real
 * minutes), mail to a counting SMTP sink in its own process, against demo-shaped data at
 * `--accounts` (generated once, kept in var/bench-cache, copied for each run). This process
 * drives Segment batches and open/click hits at fixed rates and prints a JSON line every
 * `--report` seconds, then a final summary with the correctness counts.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: number) => numberOption(args, name, def);
  const days = opt('days', 30);
  const minutes = opt('minutes', 12);
  const workers = opt('workers', 2);
  const accounts = opt('accounts', 100_000);
  const contactsPerAccount = opt('contacts-per-account', 5);
  const eventsPerAccount = opt('events-per-account', 30);
  const ingestRate = opt('ingest-rate', 200);
  const batch = opt('batch', 50);
  const trackingRate = opt('tracking-rate', 40);
  const reportEvery = opt('report', 30);
  const speed = (days * 86_400_000) / (minutes * 60_000);

  const db = await soakDatabase({ accounts, contactsPerAccount, eventsPerAccount, regenerate: args.includes('--fresh'), log: (msg) => line({ phase: 'data', msg }) });
  const sink = await startSinkProcess();
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const procs: Array<{ name: string; svc: ServiceProcess }> = [];
  try {
    // The generator's past messages name template version "v1", which no template has: left
    // queued or deferred, the dispatchers would spend the run failing to render them.
    await pg.query(`UPDATE messages SET status = 'capped', reason = 'generated history (not sent by the soak)' WHERE status IN ('queued', 'deferred')`);
    const probe = new DbProbe(pg, new Date(DATA_NOW));
    const start0 = await probe.sample();
    // All processes share one virtual timeline: DATA_NOW at the real instant `anchor` (the
    // first start); load starts once every process is up, and the run ends `minutes` after it.
    const anchor = Date.now();
    const virtualNow = () => new Date(Date.parse(DATA_NOW) + (Date.now() - anchor) * speed);
    const env = (role: string, pool: number): Record<string, string> => ({
      TOUCHLINE_ROLE: role,
      DATABASE_POOL_SIZE: String(pool),
      CLOCK: 'scaled',
      CLOCK_START: DATA_NOW,
      CLOCK_SPEED: String(speed),
      CLOCK_ANCHOR: String(anchor),
      TRACKING_KEYS: KEYS.map((k) => `${k.id}:${k.secret}`).join(','),
      TRACKING_RATE_PER_MINUTE: '100000000',
      SMTP_URL: sink.url,
      SMTP_POOL_CONNECTIONS: '4',
      DELIVERY_RATE_PER_SECOND: String(opt('send-rate', 100)),
      // At 3600x a weekday's 09:00-18:00 window lasts 9 real seconds: by default the window is always open.
      DELIVERY_SEND_WINDOW: option(args, 'send-window', 'always'),
      // The dispatcher's lease is virtual time: scaled so it lasts as long in real time as in production.
      // The engine's (ENGINE_LEASE_MS) is enforced by PostgreSQL in real time: its default stands.
      DELIVERY_LEASE: String(Math.round(300_000 * speed)),
      ENGINE_TRIGGER_INTERVAL_MS: '15000',
    });
    procs.push({ name: 'api', svc: await startService(db.url, env('api', 16)) });
    for (let i = 1; i <= workers; i++) procs.push({ name: `worker${i}`, svc: await startService(db.url, env('worker', 10)) });
    const api = procs[0].svc;
    line({ phase: 'start', readySeconds: Math.round((Date.now() - anchor) / 1000), virtualNow: virtualNow().toISOString(), days, minutes, speed, workers, accounts, contacts: accounts * contactsPerAccount, ingestRate, trackingRate, virtualStart: DATA_NOW, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), dbMb: start0.dbMb });

    const ingest = new IngestLoad(api.url, { accounts, contactsPerAccount, batch, virtualNow });
    const tracking = new TrackingLoad(api.url, KEYS);
    await tracking.refresh(pg);
    const ingestLoop = paced(ingestRate / batch, 32, () => ingest.send());
    const trackingLoop = paced(trackingRate, 64, () => tracking.hit());
    const rss = new RssSeries([...procs.map((p) => ({ name: p.name, pid: p.svc.pid })), { name: 'sink', pid: sink.pid }, { name: 'harness', pid: process.pid }]);
    const refresher = setInterval(() => void tracking.refresh(pg).catch(() => {}), 5_000);
    const sampler = setInterval(() => rss.sample(), 5_000);

    const endAt = anchor + minutes * 60_000;
    let last = { at: Date.now(), acked: 0, hits: 0, sent: 0, db: start0 };
    const intervals: Array<Record<string, number>> = [];
    while (Date.now() < endAt) {
      await new Promise((r) => setTimeout(r, Math.min(reportEvery * 1000, Math.max(0, endAt - Date.now()))));
      const now = Date.now();
      const secs = (now - last.at) / 1000;
      const [d, s] = [await probe.sample(), await sink.stats()];
      const hits = tracking.answered + tracking.failed;
      const row = {
        t: Math.round((now - anchor) / 1000),
        virtual: virtualNow().toISOString(),
        ingestEventsPerSec: Math.round((ingest.acked - last.acked) / secs),
        stepsPerSec: Math.round((d.history - last.db.history) / secs),
        sentPerSec: Math.round(((s.count - last.sent) / secs) * 10) / 10,
        trackingReqPerSec: Math.round((hits - last.hits) / secs),
        ingestMs: ingest.latency.takeInterval(),
        trackingMs: tracking.latency.takeInterval(),
        rssMb: rss.latest(),
        dbMb: d.dbMb,
        outboxBacklog: d.backlog,
        activeEnrollments: d.activeEnrollments,
        pgConnections: d.connections,
        ingestSkipped: ingestLoop.counts().skipped,
        trackingSkipped: trackingLoop.counts().skipped,
        loadavg1: Math.round(os.loadavg()[0] * 100) / 100,
      };
      line(row);
      intervals.push({ t: row.t, ingestP99: row.ingestMs.p99, trackingP99: row.trackingMs.p99 });
      last = { at: now, acked: ingest.acked, hits, sent: s.count, db: d };
    }
    clearInterval(refresher);
    clearInterval(sampler);
    await Promise.all([ingestLoop.stop(), trackingLoop.stop()]);
    const realSeconds = (Date.now() - anchor) / 1000;
    const virtualEnd = virtualNow();
    // All processes stop gracefully at once (the batch in hand finishes and its outcomes are recorded) before counting.
    await Promise.all(procs.splice(0).map((p) => p.svc.stop()));

    const end = await probe.sample();
    const c = await probe.correctness(virtualEnd);
    const s = await sink.stats();
    const growth = memoryGrowth(rss.series);
    const q = (xs: number[]) => percentiles(xs);
    const ingestAll = q(ingest.latency.all);
    const trackingAll = q(tracking.latency.all);
    const quarter = Math.max(1, Math.floor(intervals.length / 4));
    const firstQ = Math.max(...intervals.slice(0, quarter).map((i) => i.ingestP99));
    const lastQ = Math.max(...intervals.slice(-quarter).map((i) => i.ingestP99));
    const checks = {
      eventsAcknowledged: ingest.acked,
      eventsStored: c.soakEvents,
      eventsInFailedRequests: ingest.eventsInFailedRequests,
      eventsOk: c.soakEvents >= ingest.acked && c.soakEvents <= ingest.acked + ingest.eventsInFailedRequests,
      messagesSentInDb: c.sentDuringRun,
      smtpReceived: s.count,
      smtpUniqueMessageIds: s.unique,
      duplicateDeliveries: s.duplicates,
      messagesOk: s.duplicates === 0 && s.unique === s.count && c.sentDuringRun === s.unique,
      trackingAnswered: tracking.answered,
      trackingRecorded: c.engagementDuringRun,
      trackingFailed: tracking.failed,
      trackingOk: c.engagementDuringRun === tracking.answered && tracking.failed === 0,
    };
    line({ check: 'correctness', ...checks, messagesByStatus: c.byStatus, reviewOrFailed: c.problems });
    const rates = {
      ingestEventsPerSec: Math.round(ingest.acked / realSeconds),
      stepsPerSec: Math.round((end.history - start0.history) / realSeconds),
      sentPerSec: Math.round((s.count / realSeconds) * 10) / 10,
      trackingReqPerSec: Math.round(tracking.answered / realSeconds),
    };
    const memoryOk = Object.values(growth).every((g) => g.growth < 0.2);
    const ok = checks.eventsOk && checks.messagesOk && checks.trackingOk && memoryOk;
    summary({
      bench: 'soak',
      value: lastQ,
      unit: 'ms ingest p99 (worst interval of the last quarter)',
      baseline: firstQ,
      ratio: Math.round((lastQ / Math.max(firstQ, 0.1)) * 100) / 100,
      target: 'no degradation (ratio <= 1.5), RSS growth < 20% first vs last quarter, every count equal, no duplicate delivery',
      met: ok && lastQ / Math.max(firstQ, 0.1) <= 1.5,
      realSeconds: Math.round(realSeconds),
      virtualDays: Math.round(((virtualEnd.getTime() - Date.parse(DATA_NOW)) / 86_400_000) * 10) / 10,
      throughput: rates,
      latencyMs: { ingest: ingestAll, tracking: trackingAll },
      memory: growth,
      memoryOk,
      dbMb: { start: start0.dbMb, end: end.dbMb, growthMb: Math.round((end.dbMb - start0.dbMb) * 10) / 10 },
      checks,
      loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    });
  } finally {
    for (const p of procs) await p.svc.stop().catch(() => {});
    await pg.end();
    sink.stop();
    await db.close();
  }
}
