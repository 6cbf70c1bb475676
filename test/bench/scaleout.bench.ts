import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { benchServer } from './bench-db';
import { line, option, summary } from './report';
import { startService, ServiceProcess } from './service-process';
import { startSinkProcess, SinkProcess } from './smtp-sink-process';

const JOURNEY = `key: bench-scaleout
name: scale-out benchmark
phase: adoption
priority: 50
locale: ja
subject: contact
audience:
  - contact.consent
trigger:
  event: bench_never_sent
reentry: never
steps:
  - id: mail
    send: adoption-we-miss-you
  - id: pause
    wait: 7d
`;

interface Measured {
  workers: number;
  stepsPerSec: number;
  msgsPerSec: number;
  loadavg: number;
}

/**
 * `npm run bench -- scaleout [--enrollments 8000] [--workers 1,2,3]`: the same work done by
 * one, two and three worker processes (TOUCHLINE_ROLE=worker, separate OS processes, one
 * PostgreSQL, mail to a counting SMTP sink in its own process), each on a fresh database:
 * (1) engine: N due enrollments through a send step (claim, facts, fenced apply, outbox
 * row) while all sending is paused; (2) dispatcher: the pause lifted, the N messages claimed,
 * checked, rendered and sent. Prints steps/s and messages/s per worker count and the
 * ratios to one worker (the same-run baseline).
 */
export async function run(args: string[]): Promise<void> {
  const n = Number(option(args, 'enrollments', '8000'));
  const counts = option(args, 'workers', '1,2,3').split(',').map(Number);
  const server = await benchServer();
  const sink = await startSinkProcess();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-bench-scaleout-'));
  fs.writeFileSync(path.join(dir, 'bench-scaleout.yaml'), JOURNEY);
  const results: Measured[] = [];
  try {
    for (const k of counts) results.push(await measure(await server.createDatabase(`scaleout${k}`), sink, dir, k, n));
  } finally {
    sink.stop();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const one = results.find((r) => r.workers === 1) ?? results[0];
  const ratio = (x: number, base: number) => Math.round((x / base) * 100) / 100;
  for (const r of results) line({ workers: r.workers, stepsPerSec: r.stepsPerSec, msgsPerSec: r.msgsPerSec, stepsRatio: ratio(r.stepsPerSec, one.stepsPerSec), msgsRatio: ratio(r.msgsPerSec, one.msgsPerSec), loadavg1: r.loadavg });
  const top = results[results.length - 1];
  summary({
    bench: 'scaleout',
    value: top.stepsPerSec,
    unit: `engine steps/s with ${top.workers} worker processes`,
    baseline: one.stepsPerSec,
    ratio: ratio(top.stepsPerSec, one.stepsPerSec),
    target: 'more worker processes never slower; near-linear only with cores to spare (this machine has 2, shared with PostgreSQL)',
    msgsPerSec: Object.fromEntries(results.map((r) => [r.workers, r.msgsPerSec])),
    stepsPerSec: Object.fromEntries(results.map((r) => [r.workers, r.stepsPerSec])),
    msgsRatio: ratio(top.msgsPerSec, one.msgsPerSec),
    enrollments: n,
    cores: os.cpus().length,
  });
}

async function measure(url: string, sink: SinkProcess, journeysDir: string, workers: number, n: number): Promise<Measured> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const procs: ServiceProcess[] = [];
  try {
    await pg.query(
      `INSERT INTO accounts (external_id, name, phase, timezone, created_at, updated_at) SELECT 'acct-' || g, 'Account ' || g, 'adoption', 'Asia/Tokyo', now(), now() FROM generate_series(1, $1::int) g`,
      [Math.ceil(n / 10)],
    );
    await pg.query(
      `INSERT INTO contacts (external_id, account_id, email, name, locale, consent_marketing, created_at, updated_at)
       SELECT 'u-' || g, 1 + (g - 1) / 10, 'user' || g || '@bench.example', 'ユーザー ' || g, 'ja', true, now(), now() FROM generate_series(1, $1::int) g`,
      [n],
    );
    await pg.query(`INSERT INTO event_names (name, first_seen) VALUES ('bench_never_sent', now())`);
    await pg.query(`INSERT INTO account_contacts (account_id, contact_id, role, joined_at) SELECT account_id, id, 'member', created_at FROM contacts`);
    // Sending paused while the engine part is timed, so the dispatchers do not share the CPU with it.
    await pg.query(`INSERT INTO sending_pauses (kind, reason, created_at) VALUES ('all', 'scale-out benchmark: engine part', now())`);
    await pg.query('ANALYZE');
    const env = {
      TOUCHLINE_ROLE: 'worker',
      DATABASE_POOL_SIZE: '8',
      JOURNEYS_DIR: journeysDir,
      SMTP_URL: sink.url,
      DELIVERY_RATE_PER_SECOND: '0',
      DELIVERY_SEND_WINDOW: 'always',
      DELIVERY_POLL_INTERVAL: '100',
      ENGINE_TICK_MS: '100',
      ENGINE_TRIGGER_INTERVAL_MS: '3600000',
      PUBLIC_URL: 'https://touchline.example',
      // One signing key for all processes of this run (Message-IDs are derived from it), another per run.
      TRACKING_KEYS: `run${workers}:scaleout-bench-secret-${workers}-0123456789`,
    };
    for (let i = 0; i < workers; i++) procs.push(await startService(url, env));
    await until(pg, `SELECT count(*)::int AS n FROM journeys WHERE key = 'bench-scaleout' AND current_version_id IS NOT NULL`, 1, 60_000);

    const before = await sink.stats();
    const sentBefore = before.count;
    let t0 = performance.now();
    await pg.query(
      `INSERT INTO enrollments (journey_key, version_id, subject_type, subject_id, account_id, contact_id, status, step_id, step_started_at, entered_at, due_at, holdout, created_at, updated_at)
       SELECT 'bench-scaleout', j.current_version_id, 'contact', c.id, c.account_id, c.id, 'active', 'mail', now(), now(), now(), false, now(), now()
         FROM journeys j, contacts c WHERE j.key = 'bench-scaleout'`,
    );
    await until(pg, `SELECT count(*)::int AS n FROM enrollments WHERE step_id = 'pause' AND status = 'active'`, n, 600_000);
    const stepSecs = (performance.now() - t0) / 1000;
    const [{ queued }] = (await pg.query(`SELECT count(*)::int AS queued FROM messages WHERE journey_key = 'bench-scaleout'`)).rows;
    if (queued !== n) throw new Error(`${workers} workers: expected ${n} outbox rows, found ${queued}`);

    t0 = performance.now();
    await pg.query(`DELETE FROM sending_pauses`);
    const deadline = Date.now() + 900_000;
    while ((await sink.count()) - sentBefore < n) {
      if (Date.now() > deadline) throw new Error(`${workers} workers: ${(await sink.count()) - sentBefore} of ${n} messages sent after 15 minutes`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const sendSecs = (performance.now() - t0) / 1000;
    for (const p of procs.splice(0)) await p.stop();
    const s = await sink.stats();
    const [{ sent }] = (await pg.query(`SELECT count(*)::int AS sent FROM messages WHERE status = 'sent'`)).rows;
    const received = s.count - sentBefore;
    const duplicates = s.duplicates - before.duplicates;
    if (sent !== n || received !== n || duplicates !== 0) throw new Error(`${workers} workers: ${sent} marked sent, sink received ${received} of ${n}, ${duplicates} duplicate Message-IDs`);
    const r = { workers, stepsPerSec: Math.round(n / stepSecs), msgsPerSec: Math.round(n / sendSecs), loadavg: Math.round(os.loadavg()[0] * 100) / 100 };
    line({ phase: 'measured', ...r, enrollments: n, stepSeconds: Math.round(stepSecs * 100) / 100, sendSeconds: Math.round(sendSecs * 100) / 100, sent, duplicates });
    return r;
  } finally {
    for (const p of procs) await p.stop().catch(() => {});
    await pg.end();
  }
}

async function until(pg: Client, sql: string, want: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = Number((await pg.query(sql)).rows[0].n);
    if (got >= want) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${want} (${got}): ${sql}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
