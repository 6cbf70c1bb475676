import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as nodemailer from 'nodemailer';
import { createApp } from '../../src/app';
import { SystemClock } from '../../src/common/clock';
import { loadConfig } from '../../src/config/config';
import { Db } from '../../src/database/db';
import { Dispatcher } from '../../src/delivery/dispatcher';
import { buildHeaders, messageIdFor, unsubscribeToken, unsubscribeUrl } from '../../src/delivery/headers';
import { nodemailerMessage, OutgoingMail } from '../../src/delivery/mail-transport';
import { TEST_KEYS } from '../support/app';
import { MessageRenderer } from '../../src/delivery/message-renderer';
import { projectContext } from '../../src/templates/context-subset';
import { TemplatesService } from '../../src/templates/templates.service';
import { benchDatabase } from './bench-db';
import { legProfiler } from './leg-profiler';
import { line, numberOption, option, rssSampler, summary } from './report';
import { startSinkProcess } from './smtp-sink-process';
import { cpuMeter, processCpuSeconds, threadCpuSeconds, treeCpuSeconds } from './cpu-usage';

// The repository root (this file runs from dist/test/bench).
const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * `npm run bench -- deliver [--messages 20000] [--connections 10] [--rate 5000] [--batch 1000] [--legs 4] [--warmup 1000] [--cpu-prof DIR]`: queued personalised
 * messages delivered by the full dispatcher (claim with SKIP LOCKED, suppression/consent/
 * window/cap checks, render, rate-limit reservation, pooled SMTP send, outcome update) to
 * an SMTP sink in its own process, against bare nodemailer pooled sends of the same number
 * of pre-rendered messages to the same sink, measured in the same run, the two alternating in
 * `legs` shares of the messages so that changes in the machine's load weigh on both alike.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: number) => numberOption(args, name, def);
  const total = opt('messages', 20_000);
  // Untimed, before the legs: the same number of messages through each side, so that neither
  // side's first leg pays for cold code (JIT), fresh pool connections or the sink's warm-up.
  const warm = opt('warmup', 1000);
  const all = warm + total;
  const db = await benchDatabase('deliver');
  const sink = await startSinkProcess();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-bench-deliver-'));
  // The pool as the service configures it (SMTP_POOL_CONNECTIONS / SMTP_POOL_MESSAGES defaults) unless --connections is given.
  const connections = args.includes('--connections') ? { SMTP_POOL_CONNECTIONS: String(opt('connections', 10)) } : {};
  const config = loadConfig(
    {
      DATABASE_URL: db.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', TOUCHLINE_ROLE: 'api', DEMO_SEED: 'false', PUBLIC_URL: 'https://touchline.example',
      TOUCHLINE_INGEST_KEY: TEST_KEYS.ingest, TOUCHLINE_AUTHOR_KEY: TEST_KEYS.author, TOUCHLINE_REVIEW_KEY: TEST_KEYS.review, TOUCHLINE_ADMIN_KEY: TEST_KEYS.admin,
      SMTP_URL: sink.url, ...connections,
      // The rate limiter stays in the path (slots reserved per group of sends), set far above what is reachable.
      DELIVERY_RATE_PER_SECOND: String(opt('rate', 5000)), DELIVERY_BATCH_SIZE: String(opt('batch', 1000)),
      DELIVERY_SEND_WINDOW: 'always', DELIVERY_CAPS: 'contact:2/7d,contact:1/1d',
    },
    { cwd: ROOT },
  );
  const pool = config.smtp.pool;
  const clock = new SystemClock();
  const app = await createApp({ config, clock, databaseUrl: db.url });
  await app.init();
  const rss = rssSampler();
  // The real renderer: templates (compiled once per content hash) with tracking's signed links.
  const renderer = app.get(MessageRenderer);
  const TEMPLATE = 'adoption-we-miss-you';
  const sample = app.get(TemplatesService).sample('ja');
  // Queued as the engine queues a send: pinned to the template's current version, with the
  // part of the render context that version reads (src/templates/context-subset.ts).
  const pin = await app.get(TemplatesService).pin(TEMPLATE);
  try {
    const q = app.get(Db);
    const accounts = Math.ceil(all / 10);
    await q.query(`INSERT INTO accounts (external_id, name, timezone, created_at, updated_at) SELECT 'acct-' || g, 'Account ' || g, 'Asia/Tokyo', now(), now() FROM generate_series(1, $1::int) g`, [accounts]);
    await q.query(
      `INSERT INTO contacts (external_id, account_id, email, name, consent_marketing, created_at, updated_at)
       SELECT 'u-' || g, 1 + (g - 1) / 10, 'user' || g || '@bench.example', 'ユーザー ' || g, true, now(), now() FROM generate_series(1, $1::int) g`,
      [all],
    );
    // Personalised contexts: each recipient's own name, account and figures, stored as the engine stores them.
    const contextFor = (i: number, accountId: number) =>
      projectContext(
        {
          ...sample,
          contact: { ...sample.contact, id: String(i), externalId: `u-${i}`, name: `ユーザー ${i}`, email: `user${i}@bench.example` },
          account: { ...sample.account, id: String(accountId), externalId: `acct-${accountId}`, name: `Account ${accountId}` },
          signals: { ...sample.signals, daysSinceLastLogin: 14 + (i % 30), activeUsers30d: i % 25 },
        },
        pin.needs,
      );
    for (let from = 1; from <= all; from += 5000) {
      const ids = Array.from({ length: Math.min(5000, all - from + 1) }, (_, k) => from + k);
      await q.query(
        `INSERT INTO messages (idempotency_key, account_id, contact_id, to_email, journey_key, enrollment_id, step_id, template, template_version, locale, category, context, scheduled_at, created_at, updated_at)
         SELECT 'e' || c.id || ':s1:c' || c.id, c.account_id, c.id, c.email, 'adoption', c.id, 's1', $2, $4, 'ja', 'marketing', x.ctx, now() + interval '1 year', now(), now()
           FROM unnest($1::bigint[], $3::jsonb[]) AS x(id, ctx) JOIN contacts c ON c.id = x.id`,
        [ids, TEMPLATE, ids.map((i) => JSON.stringify(contextFor(i, 1 + Math.floor((i - 1) / 10)))), pin.version],
      );
    }
    // Statistics and visibility as a live outbox has them (autovacuum would otherwise analyse
    // and vacuum the freshly seeded tables during the first legs).
    for (const table of ['accounts', 'contacts', 'messages']) await q.query(`VACUUM ANALYZE ${table}`);
    line({ phase: 'seeded', messages: all, warmup: warm, accounts, pool, batch: config.delivery.batchSize, concurrency: config.delivery.concurrency });

    // Baseline: bare nodemailer, pooled, pre-rendered messages (rendering not timed). Each leg's
    // share is prepared just before its leg, so that no more than a share of the rendered
    // messages is held in memory at once (all 20,000 held took the harness to 1.5 GB of RSS,
    // and every garbage collection scanned them, in both sides' legs).
    const key = config.secrets.trackingKeys[0].secret;
    let bytes = 0;
    const prepare = async (lo: number, hi: number): Promise<OutgoingMail[]> => {
      const prepared: OutgoingMail[] = [];
      for (let i = lo + 1; i <= hi; i++) {
        const id = String(1_000_000 + i);
        const token = unsubscribeToken(config.secrets.trackingKeys, id, String(i));
        const url = unsubscribeUrl(config.publicUrl, token);
        const email = await renderer.render({ id, contactId: String(i), accountId: null, toEmail: `user${i}@bench.example`, template: TEMPLATE, templateVersion: pin.version, locale: 'ja', category: 'marketing', context: contextFor(i, 1 + Math.floor((i - 1) / 10)) as unknown as Record<string, unknown> }, { unsubscribeUrl: url });
        bytes += Buffer.byteLength(email.html) + Buffer.byteLength(email.text);
        // The dispatcher's OutgoingMail for it (same headers); composed at send time, timed, as the transport composes it.
        prepared.push({
          id, from: `"${config.sender.name}" <${config.sender.email}>`, to: `user${i}@bench.example`, envelopeFrom: config.delivery.bounceAddress,
          subject: email.subject, html: email.html, text: email.text, messageId: messageIdFor(id, config.delivery.messageIdDomain, key),
          headers: buildHeaders({ id, category: 'marketing', unsubscribeUrl: url, unsubscribeMailto: config.delivery.unsubscribeMailto, token }) as Record<string, string>,
        });
      }
      return prepared;
    };
    // Bare pooled nodemailer with the dispatcher's pool settings, fed the way nodemailer documents
    // for bulk sending: a message whenever the pool reports room ('idle'), so every connection
    // always has its next message and nothing else is queued.
    const bare = nodemailer.createTransport({ url: sink.url, pool: true, maxConnections: pool.maxConnections, maxMessages: pool.maxMessages, logger: false } as nodemailer.TransportOptions);
    const sendBare = (list: OutgoingMail[]) =>
      new Promise<void>((resolve, reject) => {
        let next = 0;
        let done = 0;
        const feed = () => {
          while (next < list.length && bare.isIdle()) bare.sendMail(nodemailerMessage(list[next++])).then(() => ++done === list.length && resolve(), reject);
        };
        bare.on('idle', feed);
        feed();
      }).finally(() => bare.removeAllListeners('idle'));
    const dispatcher = app.get(Dispatcher); // as wired in the service: templates renderer, pooled SMTP transport

    // The two alternate in legs (baseline share, dispatcher share, …), so that a change in the
    // machine's load during the run weighs on both alike; each side's time is the sum of its legs.
    const legs = Math.max(1, opt('legs', 4));
    let baseSecs = 0;
    let secs = 0;
    let rounds = 0;
    let baseReceived = 0;
    let received = 0;
    // CPU seconds per side (load-independent): this process (sender), the sink, PostgreSQL.
    const meters = {
      sender: cpuMeter(() => (process.cpuUsage().user + process.cpuUsage().system) / 1e6),
      // The sender's JavaScript thread alone: a single-threaded sender's rate is bounded by 1 / this.
      senderMainThread: cpuMeter(() => threadCpuSeconds(process.pid)),
      sink: cpuMeter(() => processCpuSeconds(sink.pid)),
      postgres: cpuMeter(() => (db.serverPid() ? treeCpuSeconds(db.serverPid()!) : 0)),
    };
    type Cpu = Record<keyof typeof meters, number>;
    const cpu: { baseline: Cpu; dispatcher: Cpu } = { baseline: { sender: 0, senderMainThread: 0, sink: 0, postgres: 0 }, dispatcher: { sender: 0, senderMainThread: 0, sink: 0, postgres: 0 } };
    const startMeters = () => Object.values(meters).forEach((m) => m.restart());
    // --cpu-prof DIR: each side's timed legs profiled separately (baseline-leg1.cpuprofile, dispatcher-leg1.cpuprofile, …).
    const profiler = await legProfiler(args.includes('--cpu-prof') ? option(args, 'cpu-prof', 'bench-profiles') : undefined);
    const addCpu = (to: Cpu) => (Object.keys(meters) as Array<keyof typeof meters>).forEach((k) => (to[k] += meters[k].used()));
    // A leg's measurement around the timed part only: the CPU meters and the profiler.
    const measure = (side: keyof typeof cpu, leg: number) => ({
      start: async () => {
        await profiler.start();
        startMeters();
      },
      stop: async () => {
        addCpu(cpu[side]);
        await profiler.stop(`${side}-leg${leg}`);
      },
    });
    const untimed = { start: async () => undefined, stop: async () => undefined };
    // Baseline share: contacts lo+1..hi, pre-rendered (untimed), then sent.
    const baselineShare = async (lo: number, hi: number, m: ReturnType<typeof measure>) => {
      const share = await prepare(lo, hi);
      const b0 = await sink.count();
      await m.start();
      const c0 = threadCpuSeconds(process.pid);
      const t0 = process.hrtime.bigint();
      await sendBare(share);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const mainThread = threadCpuSeconds(process.pid) - c0;
      await m.stop();
      share.length = 0; // not kept alive for the GC to scan during the dispatcher's leg
      return { seconds, mainThread, received: (await sink.count()) - b0 };
    };
    // Dispatcher share: those contacts' messages become due (untimed), then the dispatcher drains them.
    const dispatcherShare = async (lo: number, hi: number, m: ReturnType<typeof measure>) => {
      await q.query(`UPDATE messages SET scheduled_at = now() - interval '1 minute' WHERE contact_id > $1 AND contact_id <= $2`, [lo, hi]);
      const d0 = await sink.count();
      await m.start();
      const c0 = threadCpuSeconds(process.pid);
      const t0 = process.hrtime.bigint();
      for (;;) {
        const r = await dispatcher.tick();
        if (!r.claimed) break;
        rounds++;
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const mainThread = threadCpuSeconds(process.pid) - c0;
      await m.stop();
      return { seconds, mainThread, received: (await sink.count()) - d0 };
    };
    if (warm > 0) {
      const w = { baseline: await baselineShare(0, warm, untimed), dispatcher: await dispatcherShare(0, warm, untimed) };
      line({ phase: 'warmup', messages: warm, baselineMsgsPerSec: Math.round(warm / w.baseline.seconds), dispatcherMsgsPerSec: Math.round(warm / w.dispatcher.seconds) });
      rounds = 0;
    }
    for (let leg = 0; leg < legs; leg++) {
      const lo = warm + Math.floor((leg * total) / legs);
      const hi = warm + Math.floor(((leg + 1) * total) / legs);
      const b = await baselineShare(lo, hi, measure('baseline', leg + 1));
      baseSecs += b.seconds;
      baseReceived += b.received;

      const d = await dispatcherShare(lo, hi, measure('dispatcher', leg + 1));
      secs += d.seconds;
      received += d.received;
      line({
        phase: 'leg', leg: leg + 1, messages: hi - lo, baselineMsgsPerSec: Math.round((hi - lo) / b.seconds), dispatcherMsgsPerSec: Math.round((hi - lo) / d.seconds),
        // Each side's JavaScript thread: CPU ms per message, and its busy share of the leg.
        mainThread: { baseline: { msPerMessage: round((b.mainThread * 1000) / (hi - lo)), busy: round(b.mainThread / b.seconds) }, dispatcher: { msPerMessage: round((d.mainThread * 1000) / (hi - lo)), busy: round(d.mainThread / d.seconds) } },
        loadAverage1m: round(os.loadavg()[0]),
      });
    }
    bare.close();
    profiler.close();
    const perMessage = (c: Cpu) => ({ sender: round((c.sender * 1000) / total), senderMainThread: round((c.senderMainThread * 1000) / total), sink: round((c.sink * 1000) / total), postgres: round((c.postgres * 1000) / total) });
    const baseline = total / baseSecs;
    line({ phase: 'baseline', what: 'bare nodemailer pooled sends of pre-rendered messages', messages: total, bodyKbPerMessage: round(bytes / all / 1024), seconds: round(baseSecs), msgsPerSec: Math.round(baseline), sinkReceived: baseReceived, cpuMsPerMessage: perMessage(cpu.baseline), mainThreadBusy: round(cpu.baseline.senderMainThread / baseSecs) });
    const [{ sent, other }] = await q.query(`SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent, count(*) FILTER (WHERE status <> 'sent')::int AS other FROM messages`);
    // Every message arrived once: the baseline's and the dispatcher's Message-IDs are all distinct.
    const arrived = await sink.stats();
    // (the warm-up's messages included: `all` per side)
    if (sent !== all || received !== total || baseReceived !== total || arrived.unique !== 2 * all || arrived.duplicates !== 0)
      throw new Error(`dispatcher: ${sent} marked sent of ${all}, ${other} not, sink received ${received} in the legs (baseline ${baseReceived}) of ${total}; ${arrived.unique} distinct Message-IDs of ${2 * all}, ${arrived.duplicates} duplicates`);
    const value = total / secs;
    line({ phase: 'dispatcher', messages: total, rounds, seconds: round(secs), msgsPerSec: Math.round(value), sinkReceived: received, cpuMsPerMessage: perMessage(cpu.dispatcher), mainThreadBusy: round(cpu.dispatcher.senderMainThread / secs), peakRssMb: rss.peakMb() });
    summary({
      bench: 'deliver',
      value: Math.round(value),
      unit: 'messages/s',
      baseline: Math.round(baseline),
      ratio: round(value / baseline),
      target: '>= 0.7 of baseline and >= 500 messages/s',
      met: value / baseline >= 0.7 && value >= 500,
      connections: pool.maxConnections,
      loadAverage: os.loadavg().map(round),
    });
  } finally {
    rss.stop();
    await app.close();
    sink.stop();
    await db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
