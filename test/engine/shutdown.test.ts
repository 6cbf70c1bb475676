import { engineHarness, EngineHarness, journey, send } from './engine-support';

/** Shutting down: a drain stops after the batch in hand instead of running through the backlog. */
describe('engine: stopping mid-drain', () => {
  let h: EngineHarness;

  beforeAll(async () => {
    h = await engineHarness({ now: '2026-11-20T00:00:00Z', env: { ENGINE_BATCH_SIZE: '10' } });
    const now = h.t.clock.now();
    await h.q(`INSERT INTO accounts (external_id, name, created_at, updated_at) VALUES ('a', 'A', $1, $1)`, [now]);
    await h.q(
      `INSERT INTO contacts (external_id, account_id, email, consent_marketing, created_at, updated_at)
       SELECT 'c' || g, (SELECT id FROM accounts WHERE external_id = 'a'), 'c' || g || '@example.com', true, $1, $1 FROM generate_series(1, 30) g`,
      [now],
    );
    await h.load(journey({ key: 'backlog', trigger: { type: 'condition', condition: { type: 'const', value: true } }, steps: [send('hello', 'welcome')] }));
    expect((await h.triggers.evaluateConditions())[0].enrolled).toBe(30);
  });
  afterAll(() => h.t.close());

  it('finishes the claimed batch, then leaves the rest due for the next process', async () => {
    let checks = 0;
    const r = await h.steps.drain(1000, () => ++checks > 1);
    expect(r).toMatchObject({ claimed: 10, advanced: 10 });
    const [{ due }] = await h.q(`SELECT count(*)::int AS due FROM enrollments WHERE journey_key = 'backlog' AND status = 'active'`);
    expect(due).toBe(20);
    expect(await h.steps.drain()).toMatchObject({ claimed: 20 });
  });
});
