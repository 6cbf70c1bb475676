import { Client } from 'pg';
import { TEST_KEYS } from '../support/app';
import { benchDatabase } from './bench-db';
import { line, summary } from './report';
import { startService } from './service-process';

const EVENTS = ['login', 'report_created', 'dashboard_viewed', 'mail_sent', 'export_csv', 'workflow_created'];

/**
 * `npm run bench -- ingest [--events 1000000] [--concurrency 8]`: Segment batches of 100
 * track events over HTTP against the service in its own process, rollups maintained,
 * versus single-event /v1/track calls measured in the same run.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const total = opt('events', 1_000_000);
  const concurrency = opt('concurrency', 8);
  const baselineEvents = opt('baseline-events', 5000);
  const accounts = 1000;
  const usersPerAccount = 10;
  const db = await benchDatabase('ingest');
  const svc = await startService(db.url, { DATABASE_POOL_SIZE: String(concurrency + 4) });
  const auth = 'Basic ' + Buffer.from(`${TEST_KEYS.ingest}:`).toString('base64');
  const post = async (path: string, body: unknown) => {
    const res = await fetch(svc.url + path, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
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
    const event = () => {
      const n = seq++;
      const acct = n % accounts;
      return {
        type: 'track',
        userId: `u-${acct}-${(n >> 10) % usersPerAccount}`,
        event: EVENTS[n % EVENTS.length],
        messageId: `bench-${n}`,
        timestamp: new Date(now - (n % 60) * 86_400_000).toISOString(),
        properties: { plan: 'growth', source: 'bench', n },
      };
    };
    const drive = async (count: number, perRequest: number, send: (events: object[]) => Promise<void>, onTick?: () => void) => {
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

    const baseline = await drive(baselineEvents, 1, (events) => post('/v1/track', events[0]));
    line({ phase: 'baseline', mode: 'single /v1/track', events: baselineEvents, eventsPerSec: Math.round(baseline) });

    let peakRss = svc.rssMb();
    let done = 0;
    let lastReport = Date.now();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, svc.rssMb())), 250);
    const rate = await drive(total, 100, (events) => post('/v1/batch', { batch: events }), () => {
      done += 100;
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        line({ phase: 'batch', progress: done, rssMb: svc.rssMb() });
      }
    });
    clearInterval(sampler);
    line({ phase: 'batch', mode: 'batches of 100 /v1/batch', events: total, concurrency, eventsPerSec: Math.round(rate), peakRssMb: peakRss });

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
    });
  } finally {
    await svc.stop();
    await db.close();
  }
}
