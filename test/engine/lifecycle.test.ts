import { isHoldout } from '../../src/journeys/step-machine';
import { TemplateCatalog } from '../../src/engine/adapters';
import { engineHarness, EngineHarness, historyOf, journey, send, track } from './engine-support';

/** Versions, pause/resume, archive, holdouts, local-time waits and failing steps. */
describe('engine: versions, pauses, holdouts, time and failures', () => {
  let h: EngineHarness;

  beforeAll(async () => {
    h = await engineHarness({ now: '2026-11-20T00:00:00Z' });
    const now = h.t.clock.now();
    // 2,000 contacts in 20 accounts, set-based; half the accounts in New York, half in Tokyo.
    await h.q(
      `INSERT INTO accounts (external_id, name, phase, timezone, created_at, updated_at)
       SELECT 'a' || g, 'A' || g, 'adoption', CASE WHEN g % 2 = 0 THEN 'America/New_York' ELSE 'Asia/Tokyo' END, $1, $1 FROM generate_series(1, 20) g`,
      [now],
    );
    await h.q(
      `INSERT INTO contacts (external_id, account_id, email, role, consent_marketing, created_at, updated_at)
       SELECT 'c' || g, 1 + (g % 20), 'c' || g || '@example.com', 'member', true, $1, $1 FROM generate_series(1, 2000) g`,
      [now],
    );
  });
  afterAll(() => h.t.close());

  const v1 = journey({
    key: 'drip',
    trigger: { type: 'condition', condition: { type: 'const', value: true } },
    holdoutPercent: 20,
    steps: [send('one', 'welcome', 'pause'), { id: 'pause', type: 'wait', durationMs: 2 * 86_400_000, next: 'two' }, send('two', 'tips')],
  });

  it('draws holdouts deterministically at entry in the configured proportion; held-out sends are recorded as holdout', async () => {
    await h.load(v1);
    const [run] = await h.triggers.evaluateConditions();
    expect(run.enrolled).toBe(2000);
    const rows = await h.q(`SELECT subject_id, holdout FROM enrollments WHERE journey_key = 'drip'`);
    // The SQL draw equals the step machine's isHoldout() for every subject.
    for (const r of rows) expect(r.holdout).toBe(isHoldout(v1, `contact:${r.subject_id}`));
    const held = rows.filter((r) => r.holdout).length;
    expect(held / 2000).toBeGreaterThan(0.17);
    expect(held / 2000).toBeLessThan(0.23);
    await h.steps.drain();
    const counts = await h.q(`SELECT status, count(*)::int AS n FROM messages WHERE journey_key = 'drip' GROUP BY status ORDER BY status`);
    expect(counts).toEqual([
      { status: 'holdout', n: held },
      { status: 'queued', n: 2000 - held },
    ]);
  });

  it('a new version applies to new entrants; running enrollments stay on theirs', async () => {
    const v2 = { ...v1, steps: [send('one', 'welcome', 'pause'), { id: 'pause', type: 'wait' as const, durationMs: 2 * 86_400_000, next: 'two' }, send('two', 'recap')] };
    await h.load(v2);
    const versions = await h.q(`SELECT version FROM journey_versions WHERE journey_key = 'drip' ORDER BY version`);
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    // Reloading the same content is not a new version.
    await h.load(v2);
    expect((await h.q(`SELECT count(*)::int AS n FROM journey_versions WHERE journey_key = 'drip'`))[0].n).toBe(2);
    await h.q(`INSERT INTO contacts (external_id, account_id, email, consent_marketing, created_at, updated_at) VALUES ('late', 1, 'late@example.com', true, $1, $1)`, [h.t.clock.now()]);
    await h.triggers.evaluateConditions();
    h.t.clock.advanceDays(2);
    await h.steps.drain();
    const second = await h.q(
      `SELECT m.template, count(*)::int AS n FROM messages m WHERE m.journey_key = 'drip' AND m.step_id = 'two' GROUP BY 1 ORDER BY 1`,
    );
    expect(second).toEqual([{ template: 'tips', n: 2000 }]); // the late entrant is still waiting on v2
    const [late] = await h.q(`SELECT v.version FROM enrollments e JOIN journey_versions v ON v.id = e.version_id JOIN contacts c ON c.id = e.subject_id WHERE c.external_id = 'late'`);
    expect(late.version).toBe(2);
  });

  it('pausing stops entries and sends but keeps enrollments; resuming continues them', async () => {
    const drip = await h.q(`SELECT v.definition FROM journey_versions v WHERE journey_key = 'drip' AND version = 2`);
    const v2 = drip[0].definition;
    await h.load({ ...v2, status: 'paused' });
    expect((await h.q(`SELECT status FROM journeys WHERE key = 'drip'`))[0].status).toBe('paused');
    await h.q(`INSERT INTO contacts (external_id, account_id, email, consent_marketing, created_at, updated_at) VALUES ('later', 2, 'later@example.com', true, $1, $1)`, [h.t.clock.now()]);
    expect(await h.triggers.evaluateConditions()).toEqual([]);
    h.t.clock.advanceDays(3);
    expect((await h.steps.drain()).claimed).toBe(0);
    const before = (await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'drip'`))[0].n;
    await h.load({ ...v2, status: 'active' });
    await h.triggers.evaluateConditions();
    await h.steps.drain();
    const after = await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'drip'`);
    expect(after[0].n).toBe(before + 2); // 'late' gets its second email, 'later' its first
  });

  it('removing the file archives the journey and ends its enrollments with the reason', async () => {
    await h.t.app.get((await import('../../src/engine/journey-versions.service')).JourneyVersionsService).sync({ journeys: [], files: [], problems: [], dirExists: true });
    expect((await h.q(`SELECT status, archived_reason FROM journeys WHERE key = 'drip'`))[0]).toEqual({ status: 'archived', archived_reason: 'journey archived: its file was removed' });
    const ended = await h.q(`SELECT id, end_reason FROM enrollments WHERE journey_key = 'drip' AND status = 'ended'`);
    expect(ended.length).toBe(1); // 'later' was still waiting
    expect(ended[0].end_reason).toBe('journey archived: its file was removed');
    expect((await historyOf(h, ended[0].id)).pop()).toBe('pause:ended');
  });

  it('waits until a local time window in the contact timezone, correct across a DST change', async () => {
    // New York leaves DST on 2026-11-01; Tokyo has none. Start Saturday 2026-10-31 20:00 UTC.
    h.t.clock.set('2026-10-31T20:00:00Z');
    await h.load(
      journey({
        key: 'morning',
        trigger: { type: 'event', event: 'nudge' },
        steps: [{ id: 'w', type: 'wait', durationMs: 86_400_000, until: { from: '09:00', to: '11:00', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] }, next: 's' }, send('s', 'welcome')],
      }),
    );
    // c1 belongs to a New York account (a2), c2 to a Tokyo account (a3); c3's own timezone (London) wins.
    await h.q(`UPDATE contacts SET timezone = 'Europe/London' WHERE external_id = 'c3'`);
    await track(h, [{ user: 'c2', event: 'nudge' }, { user: 'c1', event: 'nudge' }, { user: 'c3', event: 'nudge' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    const due = await h.q(`SELECT c.external_id, e.due_at FROM enrollments e JOIN contacts c ON c.id = e.subject_id WHERE e.journey_key = 'morning' ORDER BY 1`);
    expect(due).toEqual([
      { external_id: 'c1', due_at: new Date('2026-11-02T14:00:00Z') }, // Mon 09:00 EST (UTC-5 after the change)
      { external_id: 'c2', due_at: new Date('2026-11-02T00:00:00Z') }, // Mon 09:00 JST
      { external_id: 'c3', due_at: new Date('2026-11-02T09:00:00Z') }, // Mon 09:00 GMT
    ]);
    h.t.clock.set('2026-11-02T14:00:00Z');
    await h.steps.drain();
    expect((await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'morning'`))[0].n).toBe(3);
  });

  it('a failing step is retried with backoff, then fails the enrollment with the reason; others are not blocked', async () => {
    h.t.clock.set('2026-11-10T00:00:00Z');
    await h.load(
      journey({ key: 'broken', trigger: { type: 'event', event: 'boom' }, steps: [send('s', 'gone-template')] }),
      journey({ key: 'fine', trigger: { type: 'event', event: 'boom' }, steps: [send('s', 'welcome')] }),
    );
    await track(h, [{ user: 'c5', event: 'boom' }]);
    await h.triggers.processEvents();
    const r1 = await h.steps.runOnce();
    expect(r1).toMatchObject({ claimed: 2, advanced: 1, retried: 1 });
    expect((await h.q(`SELECT template FROM messages WHERE journey_key IN ('broken','fine')`)).map((m) => m.template)).toEqual(['welcome']);
    // Retries at 1, 2, 4, 8 minutes; the fifth attempt gives up (ENGINE_MAX_ATTEMPTS=5).
    for (const minutes of [1, 2, 4, 8]) {
      h.t.clock.advance(minutes * 60_000 - 1000);
      expect((await h.steps.runOnce()).claimed).toBe(0);
      h.t.clock.advance(1000);
      await h.steps.runOnce();
    }
    const [e] = await h.q(`SELECT id, status, attempts, end_reason FROM enrollments WHERE journey_key = 'broken'`);
    expect(e.status).toBe('failed');
    expect(e.end_reason).toBe('failed after 5 attempts: template "gone-template" not found (step s)');
    expect((await historyOf(h, e.id)).slice(-2)).toEqual(['s:error', 's:failed']);
    // Once the template exists again, a new enrollment works (the catalog is re-read).
    const catalog = h.t.app.get(TemplateCatalog);
    expect((await catalog.names()).has('welcome')).toBe(true);
  });
});
