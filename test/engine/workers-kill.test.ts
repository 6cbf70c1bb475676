import * as os from 'node:os';
import { ServiceProcess, startWorker } from '../support/processes';
import { engineHarness, EngineHarness, journey, send, templatesDir } from './engine-support';

/**
 * Three real worker processes (`node dist/src/main.js`, TOUCHLINE_ROLE=worker) against one
 * database; one is killed with SIGKILL while it holds a batch (its claim transaction has the
 * rows locked). The server ends its session, which releases them, and the others finish its
 * work: every due enrollment advances exactly once, no outbox row twice.
 */
const N = 4000;

const workerEnv = (templates: string) => ({
  TEMPLATES_DIR: templates,
  ENGINE_SYNC_ON_START: 'false',
  ENGINE_TICK_MS: '100',
  ENGINE_BATCH_SIZE: '25',
  ENGINE_LEASE_MS: '3000',
});

describe('engine: scale-out with three worker processes and a kill', () => {
  let h: EngineHarness;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    // Worker processes run on the system clock: the harness starts at the real now.
    h = await engineHarness({ now: new Date().toISOString() });
    const now = h.t.clock.now();
    await h.q(`INSERT INTO accounts (external_id, name, created_at, updated_at) SELECT 'a' || g, 'A', $1, $1 FROM generate_series(1, 100) g`, [now]);
    await h.q(
      `INSERT INTO contacts (external_id, account_id, email, consent_marketing, created_at, updated_at)
       SELECT 'c' || g, 1 + g % 100, 'c' || g || '@example.com', true, $1, $1 FROM generate_series(1, ${N}) g`,
      [now],
    );
    await h.load(
      journey({
        key: 'scale',
        trigger: { type: 'condition', condition: { type: 'const', value: true } },
        steps: [send('first', 'welcome', 'second'), send('second', 'tips')],
      }),
    );
    expect((await h.triggers.evaluateConditions())[0].enrolled).toBe(N);
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await h.t.close();
  });

  it('every due enrollment advances exactly once and no outbox row is duplicated', async () => {
    const templates = templatesDir(['welcome', 'tips']);
    workers.push(...(await Promise.all([0, 1, 2].map(() => startWorker(h.t.db.url, workerEnv(templates))))));
    const victim = workers[0];
    const victimSession = `touchline steps ${os.hostname()}:${victim.pid}`.slice(0, 63);
    // Kill the victim while it holds a claimed batch.
    let held: string[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      // The rows the victim's claim transaction holds: locked by its transaction id.
      held = (
        await h.q(
          `SELECT e.id FROM pg_stat_activity a JOIN enrollments e ON e.xmax::text = a.backend_xid::text
            WHERE a.application_name = $1 AND e.status = 'active'`,
          [victimSession],
        )
      ).map((r) => r.id);
      if (held.length) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(held.length).toBeGreaterThan(0);
    victim.child.kill('SIGKILL');
    // The others finish everything, including the victim's batch once the server has ended its session.
    const until = Date.now() + 60_000;
    let active = N;
    while (Date.now() < until) {
      active = (await h.q(`SELECT count(*)::int AS n FROM enrollments WHERE status = 'active'`))[0].n;
      if (active === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(active).toBe(0);
    const statuses = await h.q(`SELECT status, count(*)::int AS n FROM enrollments GROUP BY status`);
    expect(statuses).toEqual([{ status: 'completed', n: N }]);
    // Exactly once: each enrollment sent each step once, in its history and in the outbox.
    const perStep = await h.q(
      `SELECT step_id, count(*)::int AS n, count(DISTINCT enrollment_id)::int AS d FROM enrollment_history WHERE outcome = 'sent' GROUP BY step_id ORDER BY step_id`,
    );
    expect(perStep).toEqual([
      { step_id: 'first', n: N, d: N },
      { step_id: 'second', n: N, d: N },
    ]);
    const outbox = await h.q(`SELECT count(*)::int AS n, count(DISTINCT (enrollment_id, step_id))::int AS d FROM messages`);
    expect(outbox).toEqual([{ n: 2 * N, d: 2 * N }]);
    // The victim's held enrollments were finished by the survivors.
    const heldDone = await h.q(`SELECT count(*)::int AS n FROM enrollments WHERE id = ANY($1::bigint[]) AND status = 'completed'`, [held]);
    expect(heldDone[0].n).toBe(held.length);
    const survivors = workers.slice(1).map((w) => w.pid);
    expect(survivors.every((pid) => pid && process.kill(pid, 0))).toBe(true);
  }, 300_000);
});
