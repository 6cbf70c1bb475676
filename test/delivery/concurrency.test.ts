import { VirtualClock } from '../../src/common/clock';
import { SmtpTransport } from '../../src/delivery/mail-transport';
import { performance } from 'node:perf_hooks';
import { startTestApp, TestApp } from '../support/app';
import { killHard, startDispatcherChild } from '../support/processes';
import { drain, enqueueMany, makeDispatcher, SmtpSink, startSmtpSink, TestRenderer } from './support';

let sink: SmtpSink;
let t: TestApp;

beforeAll(async () => {
  sink = await startSmtpSink(false);
  t = await startTestApp({ env: { SMTP_URL: sink.url, DELIVERY_SEND_WINDOW: 'always', DELIVERY_CAPS: 'none' } });
});
afterAll(async () => {
  await t.close();
  await sink.close();
});

const idOf = (raw: string) => /^X-Touchline-Message-Id: (\d+)\r?$/im.exec(raw)?.[1];

describe('several dispatchers', () => {
  it('honour one global send rate between them', async () => {
    sink.received.length = 0;
    sink.rcptTimes.length = 0;
    const n = 60;
    const rate = 20;
    await enqueueMany(t, n, t.clock.now());
    const config = { ...t.config, delivery: { ...t.config.delivery, ratePerSecond: rate, batchSize: 10, concurrency: 4 } };
    // The limit applies at the moment a message is handed to its SMTP connection: record that moment.
    const handed: number[] = [];
    const recording = () => {
      const smtp = new SmtpTransport(config.smtp);
      const send = smtp.send.bind(smtp);
      smtp.send = (mail) => {
        handed.push(performance.now());
        return send(mail);
      };
      return smtp;
    };
    const a = makeDispatcher(t, new TestRenderer(), { config, transport: recording() });
    const b = makeDispatcher(t, new TestRenderer(), { config, transport: recording() });
    const [ra, rb] = await Promise.all([drain(a.dispatcher), drain(b.dispatcher)]);
    await a.transport.close();
    await b.transport.close();
    expect(ra.sent + rb.sent).toBe(n);
    expect(ra.sent).toBeGreaterThan(0);
    expect(rb.sent).toBeGreaterThan(0);
    expect(sink.rcptTimes).toHaveLength(n);
    const times = handed.sort((x, y) => x - y);
    expect(times).toHaveLength(n);
    // n sends at 20/s take at least (n - 1) / 20 s; no one-second window holds more than the rate
    // (the +1 is the fence post: slots at 0 ms and 1000 ms both fall in a closed one-second span).
    // 1% slack for timer and clock granularity between processes (a real overrun would be a whole slot, 50 ms).
    expect(times[n - 1] - times[0]).toBeGreaterThanOrEqual(((n - 1) / rate) * 1000 * 0.99);
    const arrived = [...sink.rcptTimes].sort((x, y) => x - y);
    expect(arrived[n - 1] - arrived[0]).toBeGreaterThanOrEqual(((n - 1) / rate) * 1000 * 0.8);
    let most = 0;
    for (let i = 0, j = 0; i < n; i++) {
      while (times[i] - times[j] >= 1000) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(rate + 1);
  });

  it('a dispatcher killed (SIGKILL) mid-batch loses nothing; duplicates only within the documented window', async () => {
    sink.received.length = 0;
    sink.dataDelayMs = 4;
    const n = 400;
    const ids = (await enqueueMany(t, n, new Date(Date.now() - 60_000))).map((e) => e.id);
    const leaseMs = 3000;
    const proc = await startDispatcherChild(t.db.url, {
      SMTP_URL: sink.url, DELIVERY_SEND_WINDOW: 'always', DELIVERY_CAPS: 'none', DELIVERY_RATE_PER_SECOND: '0', DELIVERY_BATCH_SIZE: '150', DELIVERY_CONCURRENCY: '8', DELIVERY_LEASE: `${leaseMs}ms`,
    });
    // Kill it in the middle of its second batch.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child never got going')), 120_000);
      const check = setInterval(() => {
        if (sink.received.length >= 220) {
          clearInterval(check);
          clearTimeout(timer);
          resolve();
        }
      }, 2);
    });
    await killHard(proc);
    const killedAt = Date.now();
    const inWindow = new Set((await t.db.query<{ id: string }>(`SELECT id::text FROM messages WHERE status = 'sending' AND send_started_at IS NOT NULL`)).map((r) => r.id));
    const stillClaimed = Number((await t.db.query(`SELECT count(*) FROM messages WHERE status = 'sending'`))[0].count);
    expect(stillClaimed).toBeGreaterThan(0); // it died holding a batch
    expect(inWindow.size).toBeLessThanOrEqual(16); // at most ~2 × concurrency offered and unrecorded
    sink.dataDelayMs = 0;
    // A survivor, after the lease: recovery, then the rest goes out.
    const later = new VirtualClock(killedAt + leaseMs + 1000);
    const survivor = makeDispatcher(t, new TestRenderer(), { clock: later, config: { ...t.config, delivery: { ...t.config.delivery, ratePerSecond: 0 } } });
    await drain(survivor.dispatcher, 100);
    await survivor.transport.close();

    const statuses = await t.db.query(`SELECT status, count(*)::int AS n FROM messages WHERE id = ANY($1) GROUP BY status`, [ids]);
    expect(statuses).toEqual([{ status: 'sent', n }]);
    const counts = new Map<string, number>();
    for (const r of sink.received) counts.set(idOf(r.raw)!, (counts.get(idOf(r.raw)!) ?? 0) + 1);
    expect(ids.filter((id) => !counts.get(id))).toEqual([]);
    const twice = [...counts].filter(([, c]) => c > 1).map(([id]) => id);
    for (const id of twice) {
      expect(inWindow.has(id)).toBe(true);
      expect(counts.get(id)).toBe(2);
      // The copy carries the same Message-ID, so receivers can tell it is the same message.
      const mids = sink.received.filter((r) => idOf(r.raw) === id).map((r) => /^Message-ID: (.*)\r?$/im.exec(r.raw)?.[1]);
      expect(new Set(mids).size).toBe(1);
    }
  }, 300_000); // includes booting the child process
});
