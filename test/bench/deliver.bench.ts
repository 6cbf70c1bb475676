import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as nodemailer from 'nodemailer';
import { createApp } from '../../src/app';
import { SystemClock } from '../../src/common/clock';
import { loadConfig } from '../../src/config/config';
import { Db } from '../../src/database/db';
import { DispatchRepository } from '../../src/delivery/dispatch.repository';
import { Dispatcher } from '../../src/delivery/dispatcher';
import { buildHeaders, messageIdFor, unsubscribeToken, unsubscribeUrl } from '../../src/delivery/headers';
import { SmtpTransport } from '../../src/delivery/mail-transport';
import { RateLimiter } from '../../src/delivery/rate-limiter';
import { RateRepository } from '../../src/delivery/rate.repository';
import { ROOT, TEST_KEYS } from '../support/app';
import { HandlebarsRenderer } from '../support/mail';
import { benchDatabase } from './bench-db';
import { line, rssSampler, summary } from './report';
import { startSinkProcess } from './smtp-sink-process';

/**
 * `npm run bench -- deliver [--messages 20000] [--connections 8] [--rate 5000] [--batch 1000]`: queued personalised
 * messages delivered by the full dispatcher (claim with SKIP LOCKED, suppression/consent/
 * window/cap checks, render, rate-limit reservation, pooled SMTP send, outcome update) to
 * an SMTP sink in its own process, against bare nodemailer pooled sends of the same number
 * of pre-rendered messages to the same sink, measured in the same run.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const total = opt('messages', 20_000);
  const connections = opt('connections', 8);
  const db = await benchDatabase('deliver');
  const sink = await startSinkProcess();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-bench-deliver-'));
  const config = loadConfig(
    {
      DATABASE_URL: db.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', TOUCHLINE_ROLE: 'api', DEMO_SEED: 'false', PUBLIC_URL: 'https://touchline.example',
      TOUCHLINE_INGEST_KEY: TEST_KEYS.ingest, TOUCHLINE_AUTHOR_KEY: TEST_KEYS.author, TOUCHLINE_REVIEW_KEY: TEST_KEYS.review, TOUCHLINE_ADMIN_KEY: TEST_KEYS.admin,
      SMTP_URL: sink.url, SMTP_POOL_CONNECTIONS: String(connections), SMTP_POOL_MESSAGES: '100000',
      // The rate limiter stays in the path (one reservation per group), set far above what is reachable.
      DELIVERY_RATE_PER_SECOND: String(opt('rate', 5000)), DELIVERY_BATCH_SIZE: String(opt('batch', 1000)), DELIVERY_CONCURRENCY: String(connections),
      DELIVERY_SEND_WINDOW: 'always', DELIVERY_CAPS: 'contact:2/7d,contact:1/1d',
    },
    { cwd: ROOT },
  );
  const clock = new SystemClock();
  const app = await createApp({ config, clock, databaseUrl: db.url });
  await app.init();
  const rss = rssSampler();
  const renderer = new HandlebarsRenderer();
  try {
    const q = app.get(Db);
    const accounts = Math.ceil(total / 10);
    await q.query(`INSERT INTO accounts (external_id, name, timezone, created_at, updated_at) SELECT 'acct-' || g, 'Account ' || g, 'Asia/Tokyo', now(), now() FROM generate_series(1, $1::int) g`, [accounts]);
    await q.query(
      `INSERT INTO contacts (external_id, account_id, email, name, consent_marketing, created_at, updated_at)
       SELECT 'u-' || g, 1 + (g - 1) / 10, 'user' || g || '@bench.example', 'ユーザー ' || g, true, now(), now() FROM generate_series(1, $1::int) g`,
      [total],
    );
    await q.query(
      `INSERT INTO messages (idempotency_key, account_id, contact_id, to_email, journey_key, enrollment_id, step_id, template, locale, category, context, scheduled_at, created_at, updated_at)
       SELECT 'e' || c.id || ':s1:c' || c.id, c.account_id, c.id, c.email, 'adoption', c.id, 's1', 'feature-spotlight', 'ja', 'marketing',
              jsonb_build_object('name', c.name, 'account', 'Account ' || c.account_id, 'logins', c.id % 40), now() - interval '1 minute', now(), now()
         FROM contacts c`,
    );
    line({ phase: 'seeded', messages: total, accounts });

    // Baseline: bare nodemailer, pooled, pre-rendered messages (rendering not timed).
    const key = config.secrets.trackingKeys[0].secret;
    const prepared: nodemailer.SendMailOptions[] = [];
    for (let i = 1; i <= total; i++) {
      const id = String(1_000_000 + i);
      const token = unsubscribeToken(config.secrets.trackingKeys, id, String(i));
      const url = unsubscribeUrl(config.publicUrl, token);
      const email = await renderer.render({ id, contactId: String(i), accountId: null, toEmail: `user${i}@bench.example`, template: 'feature-spotlight', templateVersion: null, locale: 'ja', category: 'marketing', context: { name: `ユーザー ${i}`, account: `Account ${i}`, logins: i % 40 } }, { unsubscribeUrl: url });
      prepared.push({
        from: `"${config.sender.name}" <${config.sender.email}>`, to: `user${i}@bench.example`, subject: email.subject, html: email.html, text: email.text,
        messageId: messageIdFor(id, config.delivery.messageIdDomain, key),
        headers: buildHeaders({ id, category: 'marketing', unsubscribeUrl: url, unsubscribeMailto: config.delivery.unsubscribeMailto, token }) as Record<string, string>,
      });
    }
    const bare = nodemailer.createTransport({ url: sink.url, pool: true, maxConnections: connections, maxMessages: 100_000 } as nodemailer.TransportOptions);
    const before = await sink.count();
    let t0 = process.hrtime.bigint();
    await Promise.all(prepared.map((m) => bare.sendMail(m)));
    const baseSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    bare.close();
    prepared.length = 0; // not kept alive (and scanned by the GC) during the dispatcher's run
    const baseline = total / baseSecs;
    line({ phase: 'baseline', what: 'bare nodemailer pooled sends of pre-rendered messages', messages: total, seconds: round(baseSecs), msgsPerSec: Math.round(baseline), sinkReceived: (await sink.count()) - before });

    // The full dispatcher.
    const transport = new SmtpTransport(config.smtp);
    const dispatcher = new Dispatcher(app.get(DispatchRepository), new RateLimiter(app.get(RateRepository), config), transport, renderer, clock, config);
    const before2 = await sink.count();
    t0 = process.hrtime.bigint();
    let rounds = 0;
    for (;;) {
      const r = await dispatcher.tick();
      if (!r.claimed) break;
      rounds++;
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    await transport.close();
    const [{ sent, other }] = await q.query(`SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent, count(*) FILTER (WHERE status <> 'sent')::int AS other FROM messages`);
    const received = (await sink.count()) - before2;
    if (sent !== total || received !== total) throw new Error(`dispatcher: ${sent} marked sent, ${other} not, sink received ${received} of ${total}`);
    const value = total / secs;
    line({ phase: 'dispatcher', messages: total, rounds, seconds: round(secs), msgsPerSec: Math.round(value), sinkReceived: received, peakRssMb: rss.peakMb() });
    summary({
      bench: 'deliver',
      value: Math.round(value),
      unit: 'messages/s',
      baseline: Math.round(baseline),
      ratio: round(value / baseline),
      target: '>= 0.7 of baseline and >= 500 messages/s',
      met: value / baseline >= 0.7 && value >= 500,
      connections,
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
