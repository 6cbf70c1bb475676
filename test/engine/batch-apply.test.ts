import { Client } from 'pg';
import type { Config } from '../../src/config/config';
import { CONFIG } from '../../src/config/config.module';
import { RenderContextSource } from '../../src/engine/adapters';
import { endsClaim, EnrollmentsRepository } from '../../src/engine/enrollments.repository';
import { cond, engineHarness, EngineHarness, historyOf, journey, seedPeople, send } from './engine-support';

/**
 * The batch write path: one claim, every transition planned in JavaScript, then ONE
 * transaction of set-based statements (fenced enrollment update + history, the outbox's
 * batch enqueue, hand-offs, trait updates), all in the claim's transaction. Proves a batch
 * mixing step kinds lands whole, and that a claim whose writes never happen — the worker dies,
 * stalls past its lease, or a write fails half-way — leaves nothing behind.
 */
describe('engine: batch apply', () => {
  let h: EngineHarness;
  let ids: Awaited<ReturnType<typeof seedPeople>>;

  beforeAll(async () => {
    h = await engineHarness({ env: { ENGINE_LEASE_MS: '60000' } });
    ids = await seedPeople(h, [
      { ext: 'acme', csm: 'csm-tanaka', contacts: [{ ext: 'ken' }, { ext: 'yui' }, { ext: 'bad', email: 'not-an-address' }] },
      { ext: 'beta', contacts: [{ ext: 'sam' }, { ext: 'ann' }] },
    ]);
  });
  afterAll(() => h.t.close());

  /** Puts enrollments of `key` directly at `step`, due now (as the bench does). */
  async function place(key: string, step: string, contacts: string[]): Promise<Record<string, string>> {
    const now = h.t.clock.now();
    const rows = await h.q(
      `INSERT INTO enrollments (journey_key, version_id, subject_type, subject_id, account_id, contact_id, status, step_id, step_started_at, entered_at, due_at, holdout, created_at, updated_at)
       SELECT j.key, j.current_version_id, 'contact', c.id, c.account_id, c.id, 'active', $2, $3, $3, $3, false, $3, $3
         FROM journeys j, contacts c WHERE j.key = $1 AND c.external_id = ANY($4::text[]) RETURNING id, contact_id`,
      [key, step, now, contacts],
    );
    return Object.fromEntries(rows.map((r) => [Object.entries(ids.contact).find(([, id]) => id === String(r.contact_id))![0], String(r.id)]));
  }

  it('applies a batch mixing send, update, hand-off, branch, exit and a revisited send in one run', async () => {
    await h.load(
      journey({
        key: 'mix-a',
        steps: [send('hello', 'welcome', 'mark'), { id: 'mark', type: 'update', accountTraits: { greeted: true }, next: 'rest' }, { id: 'rest', type: 'wait', durationMs: 86_400_000, next: undefined }],
      }),
      journey({
        key: 'mix-b',
        steps: [{ id: 'tell', type: 'notify_csm', reason: 'needs a call', next: 'bye' }, { id: 'bye', type: 'exit', reason: 'handed over' }],
      }),
      journey({
        key: 'mix-loop',
        steps: [
          send('nudge', 'reminder', 'pause'),
          { id: 'pause', type: 'wait', durationMs: 86_400_000, next: 'back?' },
          { id: 'back?', type: 'branch', condition: cond('count(login, 7d) >= 1'), then: 'done', else: 'nudge' },
          { id: 'done', type: 'exit', reason: 'came back' },
        ],
      }),
    );
    const a = await place('mix-a', 'hello', ['ken', 'bad']);
    const b = await place('mix-b', 'tell', ['sam']);
    const loop = await place('mix-loop', 'nudge', ['ann']);

    const r = await h.steps.runOnce(100);
    expect(r).toMatchObject({ claimed: 4, advanced: 4, retried: 0, failed: 0, leaseLost: 0 });
    expect(await historyOf(h, a.ken)).toEqual(['hello:sent', 'mark:updated']);
    // An address the outbox would reject is no recipient (never a failing batch).
    expect(await historyOf(h, a.bad)).toEqual(['hello:sent', 'mark:updated', 'hello:no_recipient']);
    expect(await historyOf(h, b.sam)).toEqual(['tell:handoff', 'bye:exited']);
    expect(await historyOf(h, loop.ann)).toEqual(['nudge:sent', 'pause:waiting']);
    const [acme] = await h.q(`SELECT traits FROM accounts WHERE id = $1`, [ids.account.acme]);
    expect(acme.traits).toEqual({ greeted: true });
    expect(await h.q(`SELECT enrollment_id::text, reason FROM handoffs`)).toEqual([{ enrollment_id: b.sam, reason: 'needs a call' }]);
    const positions = await h.q(`SELECT id::text, status, step_id, seq FROM enrollments ORDER BY id`);
    expect(positions).toEqual([
      // After an update the chain stops (later conditions read fresh facts): due again at once.
      { id: a.ken, status: 'active', step_id: 'rest', seq: 2 },
      { id: a.bad, status: 'active', step_id: 'rest', seq: 2 },
      { id: b.sam, status: 'exited', step_id: 'bye', seq: 1 },
      { id: loop.ann, status: 'active', step_id: 'pause', seq: 1 },
    ]);

    // The revisited send (ann did not log in) is a new message: the transition counter is in its idempotency key.
    h.t.clock.advance(86_400_000 + 1000);
    await h.steps.drain();
    const msgs = await h.q(`SELECT idempotency_key, to_email, template, status FROM messages ORDER BY enrollment_id, id`);
    expect(msgs).toEqual([
      { idempotency_key: `e${a.ken}:t0:shello:c${ids.contact.ken}`, to_email: 'ken@example.com', template: 'welcome', status: 'queued' },
      { idempotency_key: `e${loop.ann}:t0:snudge:c${ids.contact.ann}`, to_email: 'ann@example.com', template: 'reminder', status: 'queued' },
      { idempotency_key: `e${loop.ann}:t3:snudge:c${ids.contact.ann}`, to_email: 'ann@example.com', template: 'reminder', status: 'queued' },
    ]);
    expect(await historyOf(h, loop.ann)).toEqual(['nudge:sent', 'pause:waiting', 'pause:waited', 'back?:else', 'nudge:sent', 'pause:waiting']);
  });

  /** A claim held by another session, as another worker process holds one. */
  async function foreignClaim(key: string): Promise<{ client: Client; claimed: Awaited<ReturnType<EnrollmentsRepository['claim']>> }> {
    const client = new Client({ connectionString: h.t.db.url });
    await client.connect();
    client.on('error', () => undefined); // its session is ended under it
    await client.query('BEGIN');
    const tx = { query: async (sql: string, params?: unknown[]) => (await client.query(sql, params)).rows };
    return { client, claimed: await h.t.app.get(EnrollmentsRepository).claim(tx, [key], h.t.clock.now(), 100) };
  }

  it('a worker that dies between claim and write leaves nothing half-written; the batch is redone once', async () => {
    await h.load(journey({ key: 'crash', steps: [send('mail', 'welcome', 'after'), { id: 'after', type: 'wait', durationMs: 86_400_000, next: undefined }] }));
    const placed = await place('crash', 'mail', ['ken', 'yui', 'sam']);
    const before = await h.q(`SELECT count(*)::int AS n FROM messages`);
    // The "dead" worker: it claimed (its transaction holds the rows) and wrote nothing else.
    const dead = await foreignClaim('crash');
    expect(dead.claimed).toHaveLength(3);
    expect((await h.steps.runOnce(100)).claimed).toBe(0); // held: nobody else takes them
    for (const id of Object.values(placed)) expect(await historyOf(h, id)).toEqual([]);
    expect(await h.q(`SELECT count(*)::int AS n FROM messages`)).toEqual(before);

    // It dies (its connection drops without a commit): the server releases its rows, and another worker redoes the batch, once.
    (dead.client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const deadline = Date.now() + 10_000;
    let r = await h.steps.runOnce(100);
    while (r.claimed === 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      r = await h.steps.runOnce(100);
    }
    expect(r).toMatchObject({ claimed: 3, advanced: 3 });
    for (const id of Object.values(placed)) expect(await historyOf(h, id)).toEqual(['mail:sent', 'after:waiting']);
    expect(await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'crash'`)).toEqual([{ n: 3 }]);
  });

  it('a worker stalled past its lease: the server ends its session, another redoes the batch once, the stalled one writes nothing', async () => {
    await h.load(journey({ key: 'stall', steps: [send('mail', 'welcome', 'after'), { id: 'after', type: 'wait', durationMs: 86_400_000, next: undefined }] }));
    const placed = await place('stall', 'mail', ['ken', 'yui', 'sam']);
    const repo = h.t.app.get(EnrollmentsRepository);
    const now = h.t.clock.now();
    let claimedByStalled = 0;
    // The stalled worker's batch: claims with a 500 ms lease, then stalls for 2 s before writing its plan.
    const stalled = repo.inClaim(500, 'stalled-worker', async (tx) => {
      claimedByStalled = (await repo.claim(tx, ['stall'], now, 100)).length;
      await new Promise((res) => setTimeout(res, 2000));
      const stale = Object.values(placed).map((id) => ({ id, status: 'active', step_id: 'after', step_started_at: now.toISOString(), seq: 1, due_at: null, arms: {}, end_reason: null }));
      const history = Object.values(placed).map((id) => ({ enrollment_id: id, step_id: 'mail', outcome: 'sent', reason: 'stale' }));
      await repo.applyBatch(tx, { enrollments: stale, messages: [], handoffs: [], updates: [], history }, now, async () => undefined);
    });
    const outcome = stalled.then(
      () => 'committed',
      (err: unknown) => (endsClaim(err) ? 'session ended' : `other error: ${String(err)}`),
    );
    await new Promise((res) => setTimeout(res, 200));
    expect(claimedByStalled).toBe(3);
    expect((await h.steps.runOnce(100)).claimed).toBe(0); // still within its lease
    // Past the lease the server ends the stalled session; another worker takes the batch.
    await new Promise((res) => setTimeout(res, 700));
    expect(await h.steps.runOnce(100)).toMatchObject({ claimed: 3, advanced: 3 });
    expect(await outcome).toBe('session ended');
    for (const id of Object.values(placed)) expect(await historyOf(h, id)).toEqual(['mail:sent', 'after:waiting']);
    expect(await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'stall'`)).toEqual([{ n: 3 }]);
  });

  it('a step runner whose batch outlives its lease reports the claim lost, writes nothing, and the next run redoes it once', async () => {
    await h.load(journey({ key: 'slow', steps: [send('mail', 'welcome', 'after'), { id: 'after', type: 'wait', durationMs: 86_400_000, next: undefined }] }));
    const placed = await place('slow', 'mail', ['ken', 'yui', 'sam']);
    const config = h.t.app.get<Config>(CONFIG);
    const contexts = h.t.app.get(RenderContextSource);
    const { leaseMs } = config.engine;
    const forSends = contexts.forSends;
    // This batch's render contexts take 1 s (a stalled worker); its lease is 300 ms.
    config.engine.leaseMs = 300;
    contexts.forSends = async (sends) => {
      await new Promise((res) => setTimeout(res, 1000));
      return forSends.call(contexts, sends);
    };
    try {
      expect(await h.steps.runOnce(100)).toMatchObject({ claimed: 3, advanced: 0, leaseLost: 3 });
    } finally {
      config.engine.leaseMs = leaseMs;
      contexts.forSends = forSends;
    }
    for (const id of Object.values(placed)) expect(await historyOf(h, id)).toEqual([]);
    expect(await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'slow'`)).toEqual([{ n: 0 }]);
    expect(await h.steps.runOnce(100)).toMatchObject({ claimed: 3, advanced: 3, leaseLost: 0 });
    for (const id of Object.values(placed)) expect(await historyOf(h, id)).toEqual(['mail:sent', 'after:waiting']);
    expect(await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'slow'`)).toEqual([{ n: 3 }]);
  });

  it('a write that fails half-way through a batch rolls the batch back; the others are applied one by one', async () => {
    await h.load(journey({ key: 'halfway', steps: [send('mail', 'tips', 'after'), { id: 'after', type: 'wait', durationMs: 86_400_000, next: undefined }] }));
    const placed = await place('halfway', 'mail', ['ken', 'yui', 'sam']);
    // The outbox insert fails for yui's message — after the enrollments and history of the batch were written in that transaction.
    await h.q(`CREATE FUNCTION refuse_yui() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                 IF NEW.to_email = 'yui@example.com' AND NEW.template = 'tips' THEN RAISE EXCEPTION 'disk full (test)'; END IF; RETURN NEW; END $$`);
    await h.q(`CREATE TRIGGER refuse_yui BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_yui()`);
    try {
      const r = await h.steps.runOnce(100);
      expect(r).toMatchObject({ claimed: 3, advanced: 2, retried: 1 });
    } finally {
      await h.q(`DROP TRIGGER refuse_yui ON messages; DROP FUNCTION refuse_yui()`);
    }
    expect(await historyOf(h, placed.ken)).toEqual(['mail:sent', 'after:waiting']);
    expect(await historyOf(h, placed.sam)).toEqual(['mail:sent', 'after:waiting']);
    // yui: no position change, no "sent", no message — only the error and its retry time.
    const [yui] = await h.q(`SELECT step_id, seq, attempts, last_error FROM enrollments WHERE id = $1`, [placed.yui]);
    expect(yui).toMatchObject({ step_id: 'mail', seq: 0, attempts: 1 });
    expect(yui.last_error).toContain('disk full (test)');
    expect((await historyOf(h, placed.yui)).map((x) => x.split(':')[1])).toEqual(['error']);
    expect(await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'halfway'`)).toEqual([{ n: 2 }]);
    // The retry sends it once.
    h.t.clock.advance(61_000);
    await h.steps.drain();
    expect(await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'halfway'`)).toEqual([{ n: 3 }]);
    expect(await historyOf(h, placed.yui)).toEqual(['mail:error', 'mail:sent', 'after:waiting']);
  });
});
