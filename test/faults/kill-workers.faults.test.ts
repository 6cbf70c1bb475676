import * as os from 'node:os';
import * as path from 'node:path';
import { engineHarness, EngineHarness, journey, send } from '../engine/engine-support';
import { ROOT } from '../support/app';
import { startSmtpSink, SmtpSink } from '../support/mail';
import { isAlive, killHard, ServiceProcess, startDispatcherChild, startWorker } from '../support/processes';
import { arrivals, envInt, printCounts, prng, sleep, tally, waitFor } from './fault-support';

/**
 * Scenario 1: kill -9 at random points. MESSAGES outbox messages (two sends per contact)
 * are produced by the engine and delivered to a real SMTP sink by three real worker
 * processes (engine + dispatcher) and one standalone dispatcher process; at KILLS random
 * points of the delivery (5–90 % received) one of them, chosen at random, is killed with
 * SIGKILL and a replacement started. Afterwards:
 * every message delivered or recorded with a reason, duplicates only inside the README's
 * crash window, every enrollment completed with each send in its history exactly once.
 */
const MESSAGES = envInt('FAULTS_MESSAGES', 10_000);
const KILLS = envInt('FAULTS_KILLS', 6);
const SEED = envInt('FAULTS_SEED', Math.floor(Math.random() * 2 ** 31) + 1);
const CONTACTS = Math.ceil(MESSAGES / 2);
// Long enough that no live process stalls past it on a saturated machine: a stall past the lease
// is not a crash and is outside the crash window (README, Delivery guarantees).
const LEASE_MS = 30_000;
// The README's crash window: at most two groups of min(DELIVERY_CONCURRENCY, SMTP_POOL_CONNECTIONS) per dead dispatcher.
const POOL = 10;
const WINDOW = 2 * POOL;

type Kind = 'worker' | 'dispatcher';
interface Proc {
  kind: Kind;
  p: ServiceProcess;
}

describe('fault: kill -9 of workers and dispatchers during a run', () => {
  let h: EngineHarness;
  let sink: SmtpSink;
  const procs: Proc[] = [];
  const replacements: Promise<Proc>[] = [];

  beforeAll(async () => {
    sink = await startSmtpSink(false, 'headers');
    // Addresses the receiving server rejects for good, and contacts who unsubscribed before the run.
    sink.rcpt = (a) => (a.startsWith('gone-') ? '550 5.1.1 no such user' : null);
    h = await engineHarness({ now: new Date().toISOString(), env: { TEMPLATES_DIR: path.join(ROOT, 'templates') } });
    const now = h.t.clock.now();
    await h.q(`INSERT INTO accounts (external_id, name, created_at, updated_at) SELECT 'a' || g, 'Account ' || g, $1, $1 FROM generate_series(1, 100) g`, [now]);
    await h.q(
      `INSERT INTO contacts (external_id, account_id, email, name, consent_marketing, created_at, updated_at)
       SELECT 'c' || g, 1 + g % 100, CASE WHEN g % 97 = 0 THEN 'gone-' ELSE 'c' END || g || '@example.com', 'Contact ' || g, true, $1, $1
         FROM generate_series(1, ${CONTACTS}) g`,
      [now],
    );
    await h.q(`INSERT INTO account_contacts (account_id, contact_id, role, joined_at) SELECT account_id, id, 'member', $1 FROM contacts`, [now]);
    await h.q(
      `INSERT INTO suppressions (email, scope, reason, source, created_at, updated_at) SELECT email, 'marketing', 'unsubscribed', 'fault-test', $1, $1 FROM contacts WHERE id % 89 = 0`,
      [now],
    );
    await h.load(
      journey({
        key: 'fault-run',
        trigger: { type: 'condition', condition: { type: 'const', value: true } },
        steps: [send('first', 'onboarding-welcome', 'second'), send('second', 'adoption-feature-spotlight')],
      }),
    );
    expect((await h.triggers.evaluateConditions())[0].enrolled).toBe(CONTACTS);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(replacements);
    await Promise.all(procs.map((x) => killHard(x.p)));
    await h?.t.close();
    await sink?.close();
  });

  const env = (kind: Kind): Record<string, string> => ({
    SMTP_URL: sink.url,
    // One deployment shares its signing keys (Message-IDs and links carry their MAC).
    TRACKING_KEYS: 'k1:fault-test-tracking-key-0123456789',
    SMTP_POOL_CONNECTIONS: String(POOL),
    TEMPLATES_DIR: path.join(ROOT, 'templates'),
    DELIVERY_SEND_WINDOW: 'always',
    DELIVERY_CAPS: 'none',
    DELIVERY_RATE_PER_SECOND: '0',
    DELIVERY_BATCH_SIZE: '200',
    DELIVERY_CONCURRENCY: String(POOL),
    DELIVERY_LEASE: `${LEASE_MS}ms`,
    DELIVERY_POLL_INTERVAL: '200ms',
    ...(kind === 'worker'
      ? { ENGINE_SYNC_ON_START: 'false', ENGINE_TICK_MS: '200', ENGINE_BATCH_SIZE: '500', ENGINE_LEASE_MS: String(LEASE_MS), ENGINE_TRIGGER_INTERVAL_MS: '3600000' }
      : {}),
  });
  const start = async (kind: Kind): Promise<Proc> => {
    const p = kind === 'worker' ? await startWorker(h.t.db.url, env(kind)) : await startDispatcherChild(h.t.db.url, env(kind));
    const x = { kind, p };
    procs.push(x);
    return x;
  };

  it('delivers every message or records why, duplicates only inside the crash window, enrollments consistent', async () => {
    const began = Date.now();
    const random = prng(SEED);
    await Promise.all([start('worker'), start('worker'), start('worker'), start('dispatcher')]);
    // Per kill: the messages the victim had offered to SMTP and not yet recorded (README: "the crash window").
    const windows: Array<{ kind: Kind; ids: Set<string> }> = [];
    const kills = { worker: 0, dispatcher: 0 };
    const killedPids = new Set<number>();
    const pendingAtKill: number[] = [];
    // Random points spread over the delivery itself: a kill when the sink has received a random
    // 5–90 % of the messages, plus 0–1 s (so some land mid-claim, mid-step, mid-send).
    const points = Array.from({ length: KILLS }, () => 0.05 + random() * 0.85).sort((x, y) => x - y);
    for (let k = 0; k < KILLS; k++) {
      await waitFor(async () => sink.received.length >= points[k] * 2 * CONTACTS, 1_200_000, 50);
      await sleep(random() * 1000);
      // Keep at least two processes working (replacements take a few seconds to boot, minutes on a saturated machine).
      if (!(await waitFor(async () => procs.filter((x) => isAlive(x.p)).length >= 2, 240_000, 100))) break;
      const alive = procs.filter((x) => isAlive(x.p));
      const victim = alive[Math.floor(random() * alive.length)];
      await killHard(victim.p);
      killedPids.add(victim.p.pid);
      kills[victim.kind]++;
      const held = await h.q<{ id: string }>(
        `SELECT id::text FROM messages WHERE status = 'sending' AND send_started_at IS NOT NULL AND leased_by LIKE $1`,
        [`${os.hostname()}:${victim.p.pid}:%`],
      );
      windows.push({ kind: victim.kind, ids: new Set(held.map((r) => r.id)) });
      const [p] = await h.q(`SELECT count(*)::int AS n FROM messages WHERE status IN ('queued', 'sending', 'deferred')`);
      const [e] = await h.q(`SELECT count(*)::int AS n FROM enrollments WHERE status = 'active'`);
      pendingAtKill.push(p.n + e.n);
      replacements.push(start(victim.kind));
    }
    // A replacement that cannot boot in time (a saturated machine) is reported, not fatal: the
    // survivors must finish the work either way.
    const notStarted = (await Promise.allSettled(replacements)).filter((r) => r.status === 'rejected').length;
    expect(kills.worker + kills.dispatcher).toBeGreaterThan(0);
    // Every kill landed while there was work left (messages to send or steps to run).
    expect(pendingAtKill.filter((n) => n === 0)).toEqual([]);
    // The survivors and replacements finish everything, including the victims' leased work.
    const finished = await waitFor(async () => {
      const [r] = await h.q(
        `SELECT (SELECT count(*)::int FROM enrollments WHERE status = 'active') AS active,
                (SELECT count(*)::int FROM messages WHERE status IN ('queued', 'sending', 'deferred')) AS pending`,
      );
      return r.active === 0 && r.pending === 0;
    }, 1_200_000, 500);
    const seconds = Math.round((Date.now() - began) / 1000);
    // Survivors and replacements all still up (a dead one shows what it printed).
    expect(procs.filter((x) => !isAlive(x.p) && !killedPids.has(x.p.pid)).map((x) => x.p.output().slice(-3000))).toEqual([]);
    expect(finished).toBe(true);

    // Enrollments: all completed, each send once in the history and once in the outbox.
    expect(await h.q(`SELECT status, count(*)::int AS n FROM enrollments GROUP BY status`)).toEqual([{ status: 'completed', n: CONTACTS }]);
    expect(await h.q(`SELECT count(*)::int AS n FROM enrollments WHERE ended_at IS NULL OR step_id <> 'second'`)).toEqual([{ n: 0 }]);
    expect(
      await h.q(`SELECT step_id, count(*)::int AS n, count(DISTINCT enrollment_id)::int AS d FROM enrollment_history WHERE outcome = 'sent' GROUP BY step_id ORDER BY step_id`),
    ).toEqual([
      { step_id: 'first', n: CONTACTS, d: CONTACTS },
      { step_id: 'second', n: CONTACTS, d: CONTACTS },
    ]);
    expect(await h.q(`SELECT count(*)::int AS n, count(DISTINCT (enrollment_id, step_id))::int AS d FROM messages`)).toEqual([{ n: 2 * CONTACTS, d: 2 * CONTACTS }]);

    // Messages: every one in a final state with its reason.
    const rows = await h.q<{ id: string; status: string; reason: string | null; to_email: string }>(`SELECT id::text, status, reason, to_email FROM messages`);
    const byStatus = tally(rows.map((r) => ({ s: r.status, n: 1 })), 's');
    expect(Object.keys(byStatus).sort()).toEqual(['failed', 'sent', 'suppressed']);
    const failed = rows.filter((r) => r.status === 'failed');
    const suppressed = rows.filter((r) => r.status === 'suppressed');
    for (const r of failed) {
      expect(r.to_email).toMatch(/^gone-/);
      expect(r.reason).toMatch(/^hard bounce: 550 5\.1\.1/);
    }
    for (const r of suppressed) expect(r.reason).toMatch(/^address suppressed: (unsubscribed|hard_bounce)$/);
    const gone = await h.q(`SELECT count(*)::int AS n FROM contacts WHERE email LIKE 'gone-%' AND email NOT IN (SELECT email FROM suppressions WHERE reason = 'hard_bounce')`);
    expect(gone).toEqual([{ n: 0 }]); // every 550 recipient suppressed

    // The sink: every sent message arrived; nothing else did; copies only inside a crash window.
    const got = arrivals(sink.received);
    const sent = rows.filter((r) => r.status === 'sent');
    const missing = sent.filter((r) => !got.has(r.id)).map((r) => r.id);
    expect(missing).toEqual([]);
    const statusOf = new Map(rows.map((r) => [r.id, r.status]));
    expect([...got.keys()].filter((id) => statusOf.get(id) !== 'sent')).toEqual([]);
    for (const w of windows) expect(w.ids.size).toBeLessThanOrEqual(WINDOW);
    const duplicates = [...got].filter(([, a]) => a.copies > 1);
    for (const [id, a] of duplicates) {
      const inWindows = windows.filter((w) => w.ids.has(id)).length;
      expect({ id, inWindows: inWindows > 0 }).toEqual({ id, inWindows: true });
      expect(a.copies).toBeLessThanOrEqual(1 + inWindows);
      expect(a.messageIds.size).toBe(1); // the copy carries the same Message-ID
    }
    printCounts('kill-workers', {
      seed: SEED,
      processes: '3 workers + 1 dispatcher',
      kills,
      replacementsNotStarted: notStarted,
      messages: rows.length,
      sent: sent.length,
      delivered: got.size,
      copies: sink.received.length,
      duplicates: duplicates.length,
      pendingAtKill,
      crashWindow: { max: WINDOW, sizes: windows.map((w) => w.ids.size) },
      failed: tally(failed.map((r) => ({ r: r.reason!.slice(0, 24), n: 1 })), 'r'),
      suppressed: tally(suppressed.map((r) => ({ r: r.reason!, n: 1 })), 'r'),
      lost: rows.length - sent.length - failed.length - suppressed.length,
      enrollments: { completed: CONTACTS },
      seconds,
    });
  }, 1_500_000);
});
