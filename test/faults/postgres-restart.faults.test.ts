import * as path from 'node:path';
import { engineHarness, EngineHarness, journey, send } from '../engine/engine-support';
import { signToken } from '../../src/tracking/tokens';
import { ROOT } from '../support/app';
import { startSmtpSink, SmtpSink } from '../support/mail';
import { isAlive, killHard, ServiceProcess, startDispatcherChild, startWorker } from '../support/processes';
import { arrivals, envInt, printCounts, sleep, tally, waitFor } from './fault-support';
import { OwnPostgres, startOwnPostgres } from './own-postgres';

/**
 * Scenario 2: PostgreSQL restarted mid-run. The test's own server (not the run's shared one)
 * backs two worker processes, one dispatcher process and the API in this process. While
 * MESSAGES messages are being delivered and events ingested over HTTP, the server is stopped
 * (pg_ctl stop -m fast) and started again. The processes must reconnect by themselves;
 * ingestion and tracking answer 503 while the database is away, never 500; every acknowledged
 * event is stored and enrolls its contact, every answered open is recorded; every message is delivered exactly once.
 */
const MESSAGES = envInt('FAULTS_PG_MESSAGES', 1000);
const DOWN_MS = 3000;

describe('fault: PostgreSQL restarted mid-run', () => {
  let pg: OwnPostgres;
  let h: EngineHarness;
  let sink: SmtpSink;
  const procs: ServiceProcess[] = [];

  beforeAll(async () => {
    pg = await startOwnPostgres();
    sink = await startSmtpSink(false, 'headers');
    h = await engineHarness({ db: pg.db, now: new Date().toISOString(), env: { TEMPLATES_DIR: path.join(ROOT, 'templates'), TRACKING_RATE_PER_MINUTE: '100000' } });
    const now = h.t.clock.now();
    await h.q(`INSERT INTO accounts (external_id, name, created_at, updated_at) SELECT 'a' || g, 'Account ' || g, $1, $1 FROM generate_series(1, 50) g`, [now]);
    await h.q(
      `INSERT INTO contacts (external_id, account_id, email, name, consent_marketing, created_at, updated_at)
       SELECT 'c' || g, 1 + g % 50, 'c' || g || '@example.com', 'Contact ' || g, true, $1, $1 FROM generate_series(1, ${MESSAGES}) g`,
      [now],
    );
    await h.q(`INSERT INTO account_contacts (account_id, contact_id, role, joined_at) SELECT account_id, id, 'member', $1 FROM contacts`, [now]);
    await h.load(
      journey({ key: 'bulk', trigger: { type: 'condition', condition: { type: 'const', value: true } }, steps: [send('hello', 'onboarding-welcome')] }),
      journey({ key: 'on-signal', trigger: { type: 'event', event: 'fault_signal' }, steps: [send('spotlight', 'adoption-feature-spotlight')] }),
    );
    expect((await h.triggers.evaluateConditions())[0].enrolled).toBe(MESSAGES);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => killHard(p)));
    await h?.t.close();
    await sink?.close();
    await pg?.destroy();
  });

  it('workers and dispatchers reconnect; 503 during the outage; nothing lost, nothing duplicated', async () => {
    const began = Date.now();
    const env = {
      SMTP_URL: sink.url,
      TEMPLATES_DIR: path.join(ROOT, 'templates'),
      DELIVERY_SEND_WINDOW: 'always',
      DELIVERY_CAPS: 'none',
      DELIVERY_RATE_PER_SECOND: '0',
      DELIVERY_BATCH_SIZE: '100',
      DELIVERY_LEASE: '20s',
      DELIVERY_POLL_INTERVAL: '200ms',
      ENGINE_SYNC_ON_START: 'false',
      ENGINE_TICK_MS: '200',
      ENGINE_LEASE_MS: '10000',
      ENGINE_TRIGGER_INTERVAL_MS: '3600000',
    };
    procs.push(...(await Promise.all([startWorker(h.t.db.url, env), startWorker(h.t.db.url, env), startDispatcherChild(h.t.db.url, env)])));

    // Ingestion runs throughout: one event per request for a contact not used before.
    const answers: Array<{ status: number; messageId: string; user: string; phase: string }> = [];
    let phase = 'before';
    let ingesting = true;
    const ingest = (async () => {
      for (let i = 1; ingesting; i++) {
        const user = `c${i}`;
        const messageId = `fault-${i}`;
        const res = await h.t.request('POST', '/v1/track', { key: 'ingest', body: { userId: user, event: 'fault_signal', messageId, timestamp: new Date().toISOString() } }).catch(() => ({ status: 0 }));
        answers.push({ status: res.status, messageId, user, phase });
        await sleep(40);
      }
    })();

    expect(await waitFor(async () => sink.received.length >= MESSAGES / 4, 180_000, 50)).toBe(true);
    const atStop = sink.received.length;

    // Opens of a sent message run throughout too, through the tracking listener.
    const [opened] = await h.q<{ id: string; contact_id: string }>(`SELECT id::text, contact_id::text FROM messages WHERE status = 'sent' LIMIT 1`);
    const pixel = `/t/o/${signToken(h.t.config.secrets.trackingKeys, { k: 'o', m: opened.id, r: opened.contact_id })}`;
    const hits: Array<{ status: number; phase: string }> = [];
    const track = (async () => {
      while (ingesting) {
        const res = await h.t.request('GET', pixel, { key: null }).catch(() => ({ status: 0 }));
        hits.push({ status: res.status, phase });
        await sleep(40);
      }
    })();
    phase = 'down';
    await pg.stop();
    await sleep(DOWN_MS);
    await pg.start();
    phase = 'after';
    await sleep(4000);
    ingesting = false;
    await Promise.all([ingest, track]);

    const ok = answers.filter((a) => a.status === 200);
    const statuses = tally(answers.map((a) => ({ s: a.status, n: 1 })), 's');
    expect(Object.keys(statuses).sort()).toEqual(['200', '503']);
    expect(answers.some((a) => a.phase === 'down' && a.status === 503)).toBe(true);
    expect(answers.some((a) => a.phase === 'after' && a.status === 200)).toBe(true);

    // Tracking: 503 (never 500) while the database is away; every answered open recorded.
    const hitStatuses = tally(hits.map((a) => ({ s: a.status, n: 1 })), 's');
    expect(Object.keys(hitStatuses).sort()).toEqual(['200', '503']);
    expect(hits.some((a) => a.phase === 'after' && a.status === 200)).toBe(true);
    const [{ opens }] = await h.q(`SELECT count(*)::int AS opens FROM engagement_events WHERE message_id = $1 AND kind = 'open'`, [opened.id]);
    expect(opens).toBe(hitStatuses['200']);

    // Everything finishes without anyone being restarted.
    const acknowledgedUsers = new Set(ok.map((a) => a.user));
    const finished = await waitFor(async () => {
      const [r] = await h.q(
        `SELECT (SELECT count(*)::int FROM enrollments WHERE status = 'active') AS active,
                (SELECT count(*)::int FROM enrollments WHERE journey_key = 'on-signal') AS signalled,
                (SELECT count(*)::int FROM messages WHERE status <> 'sent') AS pending`,
      );
      return r.active === 0 && r.pending === 0 && r.signalled >= acknowledgedUsers.size;
    }, 900_000, 500);
    expect(procs.filter((p) => !isAlive(p)).map((p) => p.output().slice(-3000))).toEqual([]); // all three still up
    expect(finished).toBe(true);

    // No acknowledged event lost: each is stored, and enrolled its contact in the event journey.
    const stored = new Set((await h.q<{ message_id: string }>(`SELECT message_id FROM events WHERE message_id LIKE 'fault-%'`)).map((r) => r.message_id));
    expect(ok.filter((a) => !stored.has(a.messageId)).map((a) => a.messageId)).toEqual([]);
    const signalled = new Set((await h.q<{ ext: string }>(`SELECT c.external_id AS ext FROM enrollments e JOIN contacts c ON c.id = e.contact_id WHERE e.journey_key = 'on-signal'`)).map((r) => r.ext));
    expect([...acknowledgedUsers].filter((u) => !signalled.has(u))).toEqual([]);

    // Every message sent, each arrived exactly once.
    const rows = await h.q<{ id: string; status: string; journey_key: string }>(`SELECT id::text, status, journey_key FROM messages`);
    expect(tally(rows.map((r) => ({ s: `${r.journey_key}:${r.status}`, n: 1 })), 's')).toEqual({ 'bulk:sent': MESSAGES, 'on-signal:sent': signalled.size });
    expect(await h.q(`SELECT status, count(*)::int AS n FROM enrollments GROUP BY status`)).toEqual([{ status: 'completed', n: MESSAGES + signalled.size }]);
    const got = arrivals(sink.received);
    expect(rows.filter((r) => got.get(r.id)?.copies !== 1).map((r) => `${r.id}:${got.get(r.id)?.copies ?? 0}`)).toEqual([]);
    expect(got.size).toBe(rows.length);

    printCounts('postgres-restart', {
      processes: '2 workers + 1 dispatcher (never restarted)',
      downMs: DOWN_MS,
      deliveredBeforeStop: atStop,
      sent: rows.length,
      delivered: got.size,
      duplicates: [...got.values()].filter((a) => a.copies > 1).length,
      lost: rows.length - got.size,
      ingestion: { requests: answers.length, ...Object.fromEntries(Object.entries(statuses).map(([k, v]) => [`http${k}`, v])), acknowledged: ok.length, acknowledgedLost: ok.filter((a) => !stored.has(a.messageId)).length },
      tracking: { requests: hits.length, ...Object.fromEntries(Object.entries(hitStatuses).map(([k, v]) => [`http${k}`, v])) },
      eventEnrollments: signalled.size,
      seconds: Math.round((Date.now() - began) / 1000),
    });
  }, 1_200_000);
});
