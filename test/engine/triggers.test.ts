import { Db } from '../../src/database/db';
import { cond, engineHarness, EngineHarness, journey, seedPeople, send, track } from './engine-support';

/** Condition (newly true), date and schedule triggers, re-entry policies and goals. */
describe('engine: triggers, re-entry and goals', () => {
  let h: EngineHarness;
  let ids: Awaited<ReturnType<typeof seedPeople>>;

  beforeAll(async () => {
    h = await engineHarness({ now: '2026-11-20T00:00:00Z' });
    ids = await seedPeople(h, [
      { ext: 'acme', phase: 'adoption', renewal: '2027-01-19', timezone: 'America/New_York', contacts: [{ ext: 'ken', role: 'admin' }, { ext: 'yui' }] },
      { ext: 'beta', phase: 'onboarding', renewal: '2027-03-01', contacts: [{ ext: 'sam', role: 'admin' }] },
    ]);
  });
  afterAll(() => h.t.close());

  const enrolled = async (key: string) =>
    (await h.q(`SELECT subject_id, status FROM enrollments WHERE journey_key = $1 ORDER BY id`, [key])).map((r) => `${r.subject_id}:${r.status}`);

  it('a condition trigger enrolls subjects whose condition newly holds, in one statement, honouring the audience', async () => {
    const j = journey({
      key: 'idle',
      audience: cond('account.phase = adoption'),
      trigger: { type: 'condition', condition: cond('count(login, 3d) = 0') },
      reentry: { policy: 'every_time' },
      steps: [{ id: 'hold', type: 'wait', durationMs: 86_400_000, next: 'bye' }, { id: 'bye', type: 'exit' }],
    });
    await h.load(j);
    // ken logs in today; yui does not (sam is outside the audience).
    await track(h, [{ user: 'ken', event: 'login' }]);
    const [run] = await h.triggers.evaluateConditions();
    expect(run).toMatchObject({ journey: 'idle', enrolled: 1, candidates: 1 });
    expect(await enrolled('idle')).toEqual([`${ids.contact.yui}:active`]);
    // Still true at the next evaluation: not "newly", nobody enters again.
    expect((await h.triggers.evaluateConditions())[0]).toMatchObject({ enrolled: 0 });
    // Four days later ken's condition becomes true; yui's enrollment ends after its wait.
    h.t.clock.advanceDays(4);
    await h.steps.drain();
    expect((await h.triggers.evaluateConditions())[0]).toMatchObject({ enrolled: 1 });
    expect(await enrolled('idle')).toEqual([`${ids.contact.yui}:exited`, `${ids.contact.ken}:active`]);
    // yui logs in (condition false), then goes quiet again: every_time lets her re-enter.
    await track(h, [{ user: 'yui', event: 'login' }]);
    await h.triggers.evaluateConditions();
    h.t.clock.advanceDays(3);
    await h.steps.drain();
    expect((await h.triggers.evaluateConditions())[0]).toMatchObject({ enrolled: 1 });
    expect(await enrolled('idle')).toEqual([`${ids.contact.yui}:exited`, `${ids.contact.ken}:exited`, `${ids.contact.yui}:active`]);
  });

  it('re-entry: never enrolls a subject once; cooldown waits the given days after the last enrollment ended', async () => {
    const make = (key: string, reentry: any) =>
      journey({ key, trigger: { type: 'event', event: `poke` }, reentry, steps: [{ id: 'bye', type: 'exit' }] });
    await h.load(make('once', { policy: 'never' }), make('cool', { policy: 'cooldown', days: 7 }), make('each', { policy: 'every_time' }));
    const poke = async () => {
      await track(h, [{ user: 'sam', event: 'poke' }]);
      await h.triggers.processEvents();
      await h.steps.drain();
    };
    await poke();
    h.t.clock.advanceDays(2);
    await poke();
    h.t.clock.advanceDays(6);
    await poke();
    expect((await enrolled('once')).length).toBe(1);
    expect((await enrolled('each')).length).toBe(3);
    expect((await enrolled('cool')).length).toBe(2); // day 0 and day 8 (day 2 is inside the cool-down)
  });

  it('goals end the enrollment as converted at any step: at entry, while waiting, and by an event', async () => {
    await h.load(
      journey({
        key: 'adopt',
        trigger: { type: 'event', event: 'go' },
        goal: { condition: { type: 'occurred', event: 'report_created', sinceEntry: true }, events: ['report_created'] },
        steps: [send('hi', 'welcome', 'w'), { id: 'w', type: 'wait', durationMs: 5 * 86_400_000, next: 'again' }, send('again', 'reminder')],
      }),
      journey({
        key: 'already',
        trigger: { type: 'event', event: 'go' },
        goal: { condition: cond('account.phase = onboarding'), events: [] },
        steps: [send('hi', 'welcome')],
      }),
    );
    await track(h, [{ user: 'ken', event: 'go' }, { user: 'sam', event: 'go' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    // sam's account is in onboarding: the goal already holds at the first step, nothing is sent.
    expect(await enrolled('already')).toEqual([`${ids.contact.ken}:completed`, `${ids.contact.sam}:converted`]);
    expect(await h.q(`SELECT contact_id FROM messages WHERE journey_key = 'already'`)).toEqual([{ contact_id: ids.contact.ken }]);
    // While ken waits, he creates a report: the event wakes the enrollment and converts it.
    h.t.clock.advanceDays(1);
    await track(h, [{ user: 'ken', event: 'report_created' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    const rows = await h.q(`SELECT subject_id, status, step_id FROM enrollments WHERE journey_key = 'adopt' ORDER BY subject_id`);
    expect(rows).toEqual([
      { subject_id: ids.contact.ken, status: 'converted', step_id: 'w' },
      { subject_id: ids.contact.sam, status: 'active', step_id: 'w' },
    ]);
    h.t.clock.advanceDays(5);
    await h.steps.drain();
    expect(await h.q(`SELECT contact_id FROM messages WHERE journey_key = 'adopt' AND step_id = 'again'`)).toEqual([{ contact_id: ids.contact.sam }]);
  });

  it('a date trigger fires once per date, at the local time in the subject timezone', async () => {
    h.t.clock.set('2026-11-20T03:00:00Z');
    await h.load(
      journey({
        key: 'renewal',
        subject: { type: 'account', recipients: { roles: ['admin'], where: cond('contact.consent') } },
        trigger: { type: 'date', field: 'renewal_date', offsetDays: -60, at: '09:00' },
        steps: [send('recap', 'recap')],
      }),
    );
    // acme renews 2027-01-19: the trigger date is 2026-11-20 (today), 09:00 in New York = 14:00 UTC.
    await h.triggers.fireDates();
    await h.triggers.fireDates();
    const rows = await h.q(`SELECT subject_id, due_at, trigger_key FROM enrollments WHERE journey_key = 'renewal'`);
    expect(rows).toEqual([{ subject_id: ids.account.acme, due_at: new Date('2026-11-20T14:00:00Z'), trigger_key: '2026-11-20' }]);
    // The next day it does not fire again for the same date.
    h.t.clock.set('2026-11-21T15:00:00Z');
    await h.triggers.fireDates();
    await h.steps.drain();
    expect(await enrolled('renewal')).toEqual([`${ids.account.acme}:completed`]);
  });

  it('schedule triggers: a one-off broadcast fires once; a recurring one at each occurrence', async () => {
    h.t.clock.set('2026-12-01T00:00:00Z');
    await h.load(
      journey({
        key: 'webinar',
        subject: { type: 'account', recipients: { roles: ['admin'], where: cond('contact.consent') } },
        audience: cond('account.phase = adoption'),
        trigger: { type: 'schedule', schedule: { once: '2026-12-03T01:00:00Z' } },
        steps: [send('invite', 'tips')],
      }),
      journey({
        key: 'weekly',
        trigger: { type: 'schedule', schedule: { every: 'week', weekday: 'mon', at: '09:00', timezone: 'Asia/Tokyo' } },
        reentry: { policy: 'every_time' },
        steps: [send('report', 'recap')],
      }),
    );
    const fire = async () => (await h.triggers.fireSchedules()).map((r) => `${r.journey}:${r.enrolled}`);
    expect(await fire()).toEqual([]);
    h.t.clock.set('2026-12-03T01:00:00Z');
    expect(await fire()).toEqual(['webinar:1']);
    expect(await fire()).toEqual([]);
    // Monday 2026-12-07 09:00 JST = 2026-12-07T00:00Z.
    h.t.clock.set('2026-12-07T00:00:00Z');
    await h.steps.drain();
    expect(await fire()).toEqual(['weekly:3']);
    await h.steps.drain();
    h.t.clock.set('2026-12-14T00:00:00Z');
    expect(await fire()).toEqual(['weekly:3']);
    const [{ n }] = await h.q(`SELECT count(*)::int AS n FROM messages WHERE journey_key = 'webinar'`);
    expect(n).toBe(1);
  });

  it('one evaluation of a condition trigger at a time: a process that finds the journey being evaluated skips it', async () => {
    await h.load(
      journey({
        key: 'busy',
        audience: cond('account.phase = adoption'),
        trigger: { type: 'condition', condition: cond('count(never_seen, 3d) = 0') },
        reentry: { policy: 'never' },
        steps: [{ id: 'hold', type: 'wait', durationMs: 86_400_000, next: undefined }],
      }),
    );
    // Another process holds the journey's entry lock (it is evaluating it): this one skips the journey.
    await h.t.app.get(Db).transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('touchline:entry:' || $1))`, ['busy']);
      const runs = await h.triggers.evaluateConditions();
      expect(runs.find((r) => r.journey === 'busy')).toBeUndefined();
    });
    expect(await enrolled('busy')).toEqual([]);
    // Released: the next evaluation enrolls both acme contacts, once.
    expect((await h.triggers.evaluateConditions()).find((r) => r.journey === 'busy')).toMatchObject({ enrolled: 2, candidates: 2 });
    expect((await h.triggers.evaluateConditions()).find((r) => r.journey === 'busy')).toMatchObject({ enrolled: 0, candidates: 0 });
    expect((await enrolled('busy')).sort()).toEqual([`${ids.contact.ken}:active`, `${ids.contact.yui}:active`].sort());
  });

  it("an event of any of an account's contacts wakes the account's enrollment waiting for it", async () => {
    await h.load(
      journey({
        key: 'acct-watch',
        subject: { type: 'account', recipients: { roles: ['admin'], where: cond('contact.consent') } },
        trigger: { type: 'event', event: 'acct_go' },
        steps: [
          { id: 'watch', type: 'wait_until', event: 'report_created', timeoutMs: 3 * 86_400_000, onMet: 'yay', onTimeout: 'bye' },
          { id: 'yay', type: 'exit', reason: 'made a report' },
          { id: 'bye', type: 'exit' },
        ],
      }),
    );
    await track(h, [{ user: 'yui', event: 'acct_go' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    h.t.clock.advance(3_600_000);
    await track(h, [{ user: 'ken', event: 'report_created' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    expect(await h.q(`SELECT subject_id, status, end_reason FROM enrollments WHERE journey_key = 'acct-watch'`)).toEqual([
      { subject_id: ids.account.acme, status: 'exited', end_reason: 'made a report' },
    ]);
  });

  it('scheduled passes are shared by worker processes: a condition trigger runs once per interval in all', async () => {
    // Two concurrent scheduled passes (as from two worker processes), then one straight after:
    // only one of them evaluates the journey; a direct call (CLI, tests) always evaluates.
    await h.load(journey({ key: 'quiet', trigger: { type: 'condition', condition: cond('count(login, 3d) = 0') }, steps: [{ id: 'bye', type: 'exit' }] }));
    const idle = (runs: { journey: string }[]) => runs.filter((r) => r.journey === 'quiet').length;
    const both = await Promise.all([h.triggers.evaluateConditions(true), h.triggers.evaluateConditions(true)]);
    expect(both.map(idle).sort()).toEqual([0, 1]);
    expect(idle(await h.triggers.evaluateConditions(true))).toBe(0);
    expect(idle(await h.triggers.evaluateConditions())).toBe(1);
    // A whole interval later (ENGINE_TRIGGER_INTERVAL_MS, default 60 s) the next pass runs it.
    h.t.clock.advance(60_000);
    expect(idle(await h.triggers.evaluateConditions(true))).toBe(1);
  });

  it('a condition pass enters its subjects in subject order, whatever order the audience is read in', async () => {
    // The trigger state's and the enrollments' (journey, subject) indexes then take the rows in key order.
    const now = h.t.clock.now();
    const [a] = await h.q(`INSERT INTO accounts (external_id, name, phase, created_at, updated_at) VALUES ('order', 'order', 'renewal', $1, $1) RETURNING id`, [now]);
    // Stored in descending id order: a scan in storage order reads them backwards.
    await h.q(
      `INSERT INTO contacts (id, external_id, account_id, consent_marketing, created_at, updated_at)
       SELECT 900000 - g, 'order-' || g, $1, true, $2, $2 FROM generate_series(1, 40) g`,
      [a.id, now],
    );
    await h.load(journey({ key: 'ordered', audience: cond('account.phase = renewal'), trigger: { type: 'condition', condition: cond('count(login, 3d) = 0') }, steps: [{ id: 'bye', type: 'exit' }] }));
    const runs = await h.triggers.evaluateConditions();
    expect(runs.find((r) => r.journey === 'ordered')).toMatchObject({ enrolled: 40, candidates: 40 });
    const subjects = (await h.q(`SELECT subject_id FROM enrollments WHERE journey_key = 'ordered' ORDER BY id`)).map((r) => Number(r.subject_id));
    expect(subjects).toEqual(Array.from({ length: 40 }, (_, i) => 900000 - 40 + i));
  });
});
