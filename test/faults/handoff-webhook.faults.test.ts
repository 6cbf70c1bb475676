import * as http from 'node:http';
import { HandoffWebhooksService } from '../../src/engine/handoff-webhooks';
import { cond, engineHarness, EngineHarness, journey, seedPeople, send } from '../engine/engine-support';
import { printCounts } from './fault-support';

/**
 * Scenario 4: a hand-off webhook target that accepts the connection and never answers. The
 * hand-off task is recorded once per enrollment; the journey goes on (its next steps run while
 * the POSTs hang); each POST times out and is retried on the documented backoff (1 min, 2, 4 …)
 * up to HANDOFF_WEBHOOK_MAX_ATTEMPTS, then marked failed with the reason; hand-offs to a healthy
 * target in the same round are delivered at once, not after the hanging ones.
 */
const TIMEOUT_MS = 4000;
const MAX_ATTEMPTS = 4;
const HANGING = 20;
const HEALTHY = 5;

interface Target {
  url: string;
  calls: Array<{ key: string; at: number }>;
  open: number;
  close(): Promise<void>;
}

/** A real HTTP server: answers 200 at once, or holds every request open until the client gives up. */
async function target(answer: boolean): Promise<Target> {
  const t: Target = { url: '', calls: [], open: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      t.calls.push({ key: String(req.headers['idempotency-key']), at: Date.now() });
      if (answer) return res.end('{"ok":true}');
      t.open++;
      res.on('close', () => t.open--);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  t.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return t;
}

describe('fault: a hand-off webhook target that times out', () => {
  let h: EngineHarness;
  let hang: Target;
  let ok: Target;

  beforeAll(async () => {
    hang = await target(false);
    ok = await target(true);
    h = await engineHarness({ env: { HANDOFF_WEBHOOK_TIMEOUT: `${TIMEOUT_MS}ms`, HANDOFF_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS) } });
    await seedPeople(h, [
      { ext: 'stalled', phase: 'adoption', csm: 'csm-tanaka', contacts: Array.from({ length: HANGING }, (_, i) => ({ ext: `s${i}`, role: 'admin' })) },
      { ext: 'fine', phase: 'onboarding', csm: 'csm-tanaka', contacts: Array.from({ length: HEALTHY }, (_, i) => ({ ext: `f${i}`, role: 'admin' })) },
    ]);
    const steps = (webhook: string) => [
      { id: 'handoff', type: 'notify_csm' as const, reason: 'not logging in', webhook, next: 'pause' },
      { id: 'pause', type: 'wait' as const, durationMs: 86_400_000, next: 'nudge' },
      send('nudge', 'welcome'),
    ];
    await h.load(
      journey({ key: 'hang', audience: cond('account.phase = adoption'), trigger: { type: 'condition', condition: { type: 'const', value: true } }, steps: steps(hang.url) }),
      journey({ key: 'fine', audience: cond('account.phase = onboarding'), trigger: { type: 'condition', condition: { type: 'const', value: true } }, steps: steps(ok.url) }),
    );
  });
  afterAll(async () => {
    await h?.t.close();
    await hang?.close();
    await ok?.close();
  });

  it('records the task once, retries the webhook per policy, lets the enrollment go on and blocks nothing', async () => {
    const began = Date.now();
    const svc = h.t.app.get(HandoffWebhooksService);
    await h.triggers.evaluateConditions();
    await h.steps.drain();
    expect(await h.q(`SELECT journey_key, count(*)::int AS n, count(DISTINCT enrollment_id)::int AS d FROM handoffs GROUP BY 1 ORDER BY 1`)).toEqual([
      { journey_key: 'fine', n: HEALTHY, d: HEALTHY },
      { journey_key: 'hang', n: HANGING, d: HANGING },
    ]);

    // Round 1: the hanging POSTs are in flight while the enrollments take their next steps.
    const t0 = Date.now();
    const first = svc.deliverDue();
    const inFlight = () => hang.open;
    for (let i = 0; i < 100 && inFlight() < HANGING; i++) await new Promise((r) => setTimeout(r, 20));
    expect(inFlight()).toBe(HANGING);
    h.t.clock.advance(86_400_000);
    await h.steps.drain();
    const stillHanging = inFlight();
    expect(stillHanging).toBeGreaterThan(0); // the journey went on while the webhooks hung
    expect(await h.q(`SELECT status, count(*)::int AS n FROM enrollments GROUP BY status`)).toEqual([{ status: 'completed', n: HANGING + HEALTHY }]);
    expect(await h.q(`SELECT count(*)::int AS n FROM messages WHERE step_id = 'nudge'`)).toEqual([{ n: HANGING + HEALTHY }]);
    const r1 = await first;
    const roundMs = Date.now() - t0;
    expect(r1).toEqual({ delivered: HEALTHY, retried: HANGING, failed: 0 });
    // The healthy target was not made to wait for the hanging one; the round cost one timeout.
    expect(Math.max(...ok.calls.map((c) => c.at)) - t0).toBeLessThan(TIMEOUT_MS);
    expect(roundMs).toBeLessThan(3 * TIMEOUT_MS);

    // Later rounds: nothing is due before the backoff (1 min, 2, 4 …), then one more attempt each.
    let virtualMs = 0;
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      const wait = 60_000 * 2 ** (attempt - 2);
      const rows = await h.q(`SELECT webhook_status, webhook_attempts, webhook_next_at, webhook_last_error FROM handoffs WHERE journey_key = 'hang'`);
      for (const r of rows) {
        expect(r).toMatchObject({ webhook_status: 'pending', webhook_attempts: attempt - 1 });
        expect(r.webhook_last_error).toBe(`no answer from ${hang.url} within ${TIMEOUT_MS} ms (timeout)`);
      }
      const next = Math.min(...rows.map((r) => new Date(r.webhook_next_at).getTime()));
      h.t.clock.set(new Date(next - 1000));
      expect(await svc.deliverDue()).toEqual({ delivered: 0, retried: 0, failed: 0 });
      h.t.clock.set(new Date(next));
      virtualMs += wait;
      const r = await svc.deliverDue();
      expect(r).toEqual(attempt < MAX_ATTEMPTS ? { delivered: 0, retried: HANGING, failed: 0 } : { delivered: 0, retried: 0, failed: HANGING });
    }
    const final = await h.q(`SELECT journey_key, webhook_status, webhook_attempts, status, count(*)::int AS n FROM handoffs GROUP BY 1, 2, 3, 4 ORDER BY 1`);
    expect(final).toEqual([
      { journey_key: 'fine', webhook_status: 'delivered', webhook_attempts: 1, status: 'open', n: HEALTHY },
      { journey_key: 'hang', webhook_status: 'failed', webhook_attempts: MAX_ATTEMPTS, status: 'open', n: HANGING },
    ]);
    // Every POST carried the hand-off's idempotency key: MAX_ATTEMPTS per hanging hand-off, one per healthy one.
    const perKey = (calls: Target['calls']) => [...new Set(calls.map((c) => c.key))].map((k) => calls.filter((c) => c.key === k).length);
    expect(perKey(hang.calls)).toEqual(Array(HANGING).fill(MAX_ATTEMPTS));
    expect(perKey(ok.calls)).toEqual(Array(HEALTHY).fill(1));
    expect(await svc.deliverDue()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    printCounts('handoff-webhook', {
      handoffs: HANGING + HEALTHY,
      tasksRecorded: final.reduce((a, r) => a + r.n, 0),
      webhookDelivered: HEALTHY,
      webhookFailed: { [`timeout after ${MAX_ATTEMPTS} attempts`]: HANGING },
      posts: { hanging: hang.calls.length, healthy: ok.calls.length },
      stillHangingWhenJourneyWentOn: stillHanging,
      enrollments: { completed: HANGING + HEALTHY },
      firstRoundMs: roundMs,
      backoffVirtualMinutes: virtualMs / 60_000,
      lost: HANGING + HEALTHY - final.reduce((a, r) => a + r.n, 0),
      seconds: Math.round((Date.now() - began) / 1000),
    });
  }, 180_000);
});
