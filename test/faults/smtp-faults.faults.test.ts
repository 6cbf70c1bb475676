import { drain, enqueueMany, makeDispatcher, TestRenderer } from '../delivery/support';
import { startTestApp, TestApp } from '../support/app';
import { startSmtpSink, SmtpSink } from '../support/mail';
import { arrivals, envInt, printCounts, tally } from './fault-support';

/**
 * Scenario 3: the SMTP server misbehaves in turn — slow, refusing connections, answering 421
 * at the greeting, 451 at RCPT TO for half the recipients — and answers 550 for 5 % of the
 * recipients throughout. Two dispatchers (the service's classes, real pooled SMTP, one
 * virtual clock so the backoff takes virtual minutes) work through it. Afterwards every
 * message is sent exactly once or failed as a hard bounce with its address suppressed;
 * every temporary failure was retried on the documented backoff; the refusal paused all
 * sending and released the batch untouched.
 */
const N = envInt('FAULTS_SMTP_MESSAGES', 400);
const BASE_MS = 60_000;
const MAX_MS = 16 * 60_000;
const ROUND_MS = 20_000;

describe('fault: SMTP slow, refusing, 421, 451, 550', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await startSmtpSink(false);
    t = await startTestApp({
      env: {
        SMTP_URL: sink.url,
        SMTP_CONNECTION_TIMEOUT: '3s',
        SMTP_SOCKET_TIMEOUT: '10s',
        DELIVERY_RATE_PER_SECOND: '0',
        DELIVERY_BATCH_SIZE: '50',
        DELIVERY_SEND_WINDOW: 'always',
        DELIVERY_CAPS: 'none',
        DELIVERY_RETRY_BASE: '1m',
        DELIVERY_RETRY_MAX: '16m',
        DELIVERY_RETRY_FOR: '1d',
        DELIVERY_OUTAGE_PAUSE: '1m',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('retries temporary failures with backoff until delivered, fails and suppresses 550s, pauses on refusal, drops nothing', async () => {
    const began = Date.now();
    const messages = await enqueueMany(t, N, t.clock.now(), 'marketing');
    const ids = messages.map((m) => m.id);
    const rows0 = await t.db.query<{ id: string; to_email: string }>(`SELECT id::text, to_email FROM messages WHERE id = ANY($1)`, [ids]);
    const emailOf = new Map(rows0.map((r) => [r.id, r.to_email]));
    const bad = new Set(rows0.filter((_, i) => i % 20 === 0).map((r) => r.to_email));
    const half = new Set(rows0.filter((_, i) => i % 2 === 1).map((r) => r.to_email));
    const a = makeDispatcher(t, new TestRenderer());
    const b = makeDispatcher(t, new TestRenderer());
    const seen = { refusedRounds: 0, pausedTicks: 0, rcpt421: 0, rcpt451: 0, rcpt550: 0, releasedUntouched: 0 };
    const backoff: Array<{ attempt: number; delayMs: number }> = [];

    const round = async () => {
      // One batch per dispatcher per round (no pipelined next claim), so each fault phase meets mail.
      const one = { more: () => false };
      const r = await Promise.all([a.dispatcher.tick(one), b.dispatcher.tick(one)]);
      seen.pausedTicks += r.filter((x) => x.paused).length;
      // Every temporary failure written this round is due again after base·2^(n−1) (≤ max) ±50 %.
      const now = t.clock.now();
      const retried = await t.db.query<{ reason: string; delay: string }>(
        `SELECT reason, extract(epoch FROM scheduled_at - updated_at) * 1000 AS delay FROM messages
          WHERE id = ANY($1) AND status = 'queued' AND updated_at = $2 AND reason LIKE 'temporary failure (attempt %'`,
        [ids, now],
      );
      for (const x of retried) {
        const attempt = Number(/attempt (\d+)/.exec(x.reason)![1]);
        const expected = Math.min(MAX_MS, BASE_MS * 2 ** (attempt - 1));
        const delayMs = Number(x.delay);
        expect(delayMs).toBeGreaterThanOrEqual(expected * 0.5 - 1);
        expect(delayMs).toBeLessThanOrEqual(expected * 1.5 + 1);
        backoff.push({ attempt, delayMs });
      }
      // While paused, jump to the end of the pause (the next round probes the provider).
      const [p] = await t.db.query(`SELECT details->>'until' AS until FROM sending_pauses WHERE reason = 'provider_outage'`);
      if (p?.until && Date.parse(p.until) > now.getTime()) t.clock.set(new Date(Date.parse(p.until) + 1));
      else t.clock.advance(ROUND_MS);
    };
    /** Rounds until `seenIt` holds (at least 3 rounds, at most 60). */
    const roundsUntil = async (seenIt: () => Promise<boolean>) => {
      let ok = false;
      for (let i = 0; i < 60 && !ok; i++) {
        await round();
        ok = i >= 2 && (await seenIt());
      }
      expect(ok).toBe(true);
    };

    sink.rcpt = (addr) => {
      if (bad.has(addr)) return (seen.rcpt550++, '550 5.1.1 <' + addr + '>: no such user');
      return null;
    };
    // 1. Slow: every message's data is answered after 150 ms.
    sink.dataDelayMs = 150;
    await round();
    await round();
    sink.dataDelayMs = 0;
    expect(sink.received.length).toBeGreaterThan(0);

    // 2. 421 at the greeting (the server is overloaded): open connections drop, new ones are refused with 421.
    sink.drop();
    sink.connect = () => (seen.rcpt421++, '421 4.7.0 too busy, try again later');
    // Until messages themselves were answered 421 and put back for a retry (not only the probe).
    await roundsUntil(async () => (await t.db.query(`SELECT 1 FROM messages WHERE id = ANY($1) AND status = 'queued' AND last_error LIKE '421%' LIMIT 1`, [ids])).length > 0);
    sink.connect = () => null;
    // 3. 451 at RCPT TO for half the recipients.
    sink.rcpt = (addr) => {
      if (bad.has(addr)) return (seen.rcpt550++, '550 5.1.1 <' + addr + '>: no such user');
      if (half.has(addr)) return (seen.rcpt451++, '451 4.3.0 mailbox temporarily unavailable');
      return null;
    };
    await roundsUntil(async () => seen.rcpt451 > 0);
    sink.rcpt = (addr) => (bad.has(addr) ? (seen.rcpt550++, '550 5.1.1 <' + addr + '>: no such user') : null);

    // 4. Refusing connections: the first send that cannot connect pauses all sending.
    const [due] = await t.db.query(`SELECT min(scheduled_at) AS next FROM messages WHERE id = ANY($1) AND status = 'queued'`, [ids]);
    expect(due.next).not.toBeNull(); // messages still waiting for their retry
    if (new Date(due.next).getTime() > t.clock.now().getTime()) t.clock.set(new Date(due.next));
    const sentBeforeRefusal = sink.received.length;
    await sink.refuse();
    await round();
    const pause = await t.db.query(`SELECT kind, reason FROM sending_pauses`);
    expect(pause).toEqual([{ kind: 'all', reason: 'provider_outage' }]);
    // Released untouched: back to queued, attempt not counted, never offered.
    const released = await t.db.query(`SELECT attempts, send_started_at FROM messages WHERE id = ANY($1) AND reason LIKE 'not attempted: the mail provider is unreachable%'`, [ids]);
    seen.releasedUntouched = released.length;
    for (let i = 0; i < 5; i++) await round(); // paused; the probe after the pause fails and doubles it
    seen.refusedRounds = 6;
    expect(await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND status = 'sending'`, [ids])).toEqual([{ n: 0 }]);
    expect(sink.received.length).toBe(sentBeforeRefusal);
    await sink.listen();

    // 5. Healthy again: run until nothing is pending, jumping the clock to the next retry.
    for (let i = 0; i < 200; i++) {
      const [p] = await t.db.query(`SELECT count(*)::int AS n, min(scheduled_at) AS next FROM messages WHERE id = ANY($1) AND status IN ('queued', 'deferred', 'sending')`, [ids]);
      if (p.n === 0) break;
      if (new Date(p.next).getTime() > t.clock.now().getTime()) t.clock.set(new Date(p.next));
      await round();
    }
    await drain(a.dispatcher);
    await a.transport.close();
    await b.transport.close();

    const rows = await t.db.query<{ id: string; status: string; reason: string; attempts: number; to_email: string }>(
      `SELECT id::text, status, reason, attempts, to_email FROM messages WHERE id = ANY($1)`,
      [ids],
    );
    const byStatus = tally(rows.map((r) => ({ s: r.status, n: 1 })), 's');
    expect(byStatus).toEqual({ sent: N - bad.size, failed: bad.size });
    for (const r of rows.filter((x) => x.status === 'failed')) {
      expect(bad.has(r.to_email)).toBe(true);
      expect(r.reason).toMatch(/^hard bounce: 550 5\.1\.1/);
    }
    const suppressed = await t.db.query<{ email: string }>(`SELECT email FROM suppressions WHERE reason = 'hard_bounce' AND scope = 'all'`);
    expect(new Set(suppressed.map((s) => s.email))).toEqual(bad);
    // Sent exactly once each; nothing for the 550 recipients.
    const got = arrivals(sink.received);
    const sentIds = rows.filter((r) => r.status === 'sent').map((r) => r.id);
    expect(sentIds.filter((id) => got.get(id)?.copies !== 1)).toEqual([]);
    expect([...got.keys()].filter((id) => bad.has(emailOf.get(id)!))).toEqual([]);
    // The faults really happened, and temporary ones were retried rather than failed.
    expect(seen.pausedTicks).toBeGreaterThan(0);
    expect(seen.releasedUntouched).toBeGreaterThan(0);
    expect(seen.rcpt421).toBeGreaterThan(0);
    expect(seen.rcpt451).toBeGreaterThan(0);
    expect(backoff.length).toBeGreaterThan(0);
    const retriedAndSent = rows.filter((r) => r.status === 'sent' && r.attempts > 1).length;
    expect(retriedAndSent).toBeGreaterThan(0);
    printCounts('smtp-faults', {
      sent: N,
      delivered: sentIds.length,
      duplicates: [...got.values()].filter((x) => x.copies > 1).length,
      failed: { 'hard bounce 550 (suppressed)': bad.size },
      lost: rows.filter((r) => !['sent', 'failed'].includes(r.status)).length,
      retriedThenDelivered: retriedAndSent,
      maxAttempts: Math.max(...rows.map((r) => r.attempts)),
      replies: { '421': seen.rcpt421, '451': seen.rcpt451, '550': seen.rcpt550 },
      refusal: { rounds: seen.refusedRounds, pausedTicks: seen.pausedTicks, releasedUntouched: seen.releasedUntouched, tcpConnections: sink.connections },
      backoffChecked: backoff.length,
      virtualMinutes: Math.round((t.clock.now().getTime() - Date.parse('2026-11-20T03:00:00Z')) / 60_000),
      seconds: Math.round((Date.now() - began) / 1000),
    });
  }, 300_000);
});
