import { DemoService } from '../../src/demo/demo.service';
import { engineHarness, EngineHarness, track } from './engine-support';

/**
 * The shipped journeys (journeys/*.yaml, loaded and validated by the journey language's
 * loader) run by themselves over 30 virtual days on the demo data: onboarding accounts
 * that stall get a nudge, then a CSM hand-off; a new user who joins gets the welcome
 * journey, and reaching the goal (first report) converts them at whatever step they are.
 */
const TEMPLATES = [
  'adoption-feature-spotlight',
  'adoption-we-miss-you',
  'established-new-user-welcome',
  'nps-survey',
  'onboarding-first-action-reminder',
  'onboarding-welcome',
  'renewal-value-recap',
];

describe('engine: the onboarding journeys over 30 virtual days on demo data', () => {
  let h: EngineHarness;

  beforeAll(async () => {
    h = await engineHarness({ now: '2026-11-20T01:00:00Z', templates: TEMPLATES });
    await h.t.app.get(DemoService).seed({ accounts: 60, seed: 7 });
  });
  afterAll(() => h.t.close());

  it('enrolls, sends, waits, hands off and converts without intervention', async () => {
    const report = await h.versions.reload();
    expect(report.problems).toEqual([]);
    expect(report.added).toEqual(expect.arrayContaining(['onboarding-welcome', 'onboarding-stalled']));

    // Day 0: the scheduled triggers run; stalled onboarding accounts enter.
    const runs = await h.triggers.tick();
    expect(runs.filter((r) => r.error)).toEqual([]);
    const stalled = await h.q(`SELECT id, account_id FROM enrollments WHERE journey_key = 'onboarding-stalled' ORDER BY id`);
    expect(stalled.length).toBeGreaterThan(0);

    // A new admin joins an onboarding account (a Segment group call) and gets the welcome journey.
    const [acct] = await h.q(`SELECT external_id FROM accounts WHERE phase = 'onboarding' AND NOT high_touch ORDER BY id LIMIT 1`);
    const group = await h.t.request('POST', '/v1/batch', {
      key: 'ingest',
      body: {
        batch: [
          { type: 'identify', userId: 'new-admin', traits: { email: 'new-admin@example.com', role: 'admin', consent: { marketing: true, source: 'signup' } } },
          { type: 'group', userId: 'new-admin', groupId: acct.external_id },
        ],
      },
    });
    expect(group.status).toBe(200);
    await h.run(1, 6);
    const [welcome] = await h.q(
      `SELECT e.id, e.holdout FROM enrollments e JOIN contacts c ON c.id = e.subject_id WHERE e.journey_key = 'onboarding-welcome' AND c.external_id = 'new-admin'`,
    );
    expect(welcome).toBeDefined();
    const [msg] = await h.q(`SELECT template, status FROM messages WHERE enrollment_id = $1`, [welcome.id]);
    expect(msg).toEqual({ template: 'onboarding-welcome', status: welcome.holdout ? 'holdout' : 'queued' });

    // Two days later the new admin creates a first report: the goal converts the enrollment.
    await h.run(1, 6);
    await track(h, [{ user: 'new-admin', event: 'report_created', group: acct.external_id }]);
    await h.run(28, 6);

    const [w] = await h.q(`SELECT status FROM enrollments WHERE id = $1`, [welcome.id]);
    expect(w.status).toBe('converted');
    // Every stalled account went through nudge → (recovered | hand-off) and nobody is stuck.
    const outcomes = await h.q(`SELECT status, count(*)::int AS n FROM enrollments WHERE journey_key = 'onboarding-stalled' GROUP BY status`);
    expect(outcomes.every((o) => ['exited', 'converted', 'completed'].includes(o.status))).toBe(true);
    const handoffs = await h.q(`SELECT count(*)::int AS n FROM handoffs WHERE journey_key = 'onboarding-stalled'`);
    expect(handoffs[0].n).toBeGreaterThan(0);
    const [marked] = await h.q(`SELECT count(*)::int AS n FROM accounts WHERE traits->>'onboarding_stalled' = 'true'`);
    expect(marked.n).toBe(handoffs[0].n);
    const failed = await h.q(`SELECT journey_key, last_error FROM enrollments WHERE status = 'failed' OR attempts > 0`);
    expect(failed).toEqual([]);
    // The history of a handed-off account tells the whole story.
    const [one] = await h.q(`SELECT enrollment_id FROM handoffs WHERE journey_key = 'onboarding-stalled' LIMIT 1`);
    const steps = await h.q(`SELECT coalesce(step_id,'-') || ':' || outcome AS s FROM enrollment_history WHERE enrollment_id = $1 ORDER BY id`, [one.enrollment_id]);
    expect(steps.map((s) => s.s)).toEqual(['-:entered', 'nudge:sent', 'wait-for-activity:waiting', 'wait-for-activity:timeout', 'handoff:handoff', 'mark:updated', 'end:exited']);
    // Conversion of treated vs held-out, per journey, through the review API.
    const conv = await h.t.request('GET', '/api/engine/journeys/onboarding-welcome/conversion', { key: 'review' });
    expect(conv.status).toBe(200);
    expect(conv.body.treated.entered + conv.body.holdout.entered).toBeGreaterThan(0);
    expect(conv.body.treated.converted + conv.body.holdout.converted).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
