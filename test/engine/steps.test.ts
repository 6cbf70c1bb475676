import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { engineHarness, EngineHarness, historyOf, journey, seedPeople, send, track, cond } from './engine-support';

/** A team directory where one CSM has a hand-off webhook of their own. */
function teamFile(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-team-')), 'team.yaml');
  fs.writeFileSync(file, 'csms:\n  - id: csm-tanaka\n    name: 田中 美咲\n    email: misaki.tanaka@example.com\n    webhook: https://hooks.example.com/tanaka\n');
  return file;
}

/**
 * Every step type, driven through the real engine (event trigger → claim → facts →
 * decide → apply in the claim's transaction) on a real database with a virtual clock.
 */
describe('engine: step execution', () => {
  let h: EngineHarness;
  let ids: Awaited<ReturnType<typeof seedPeople>>;
  const webhookCalls: { url: string; body: any; headers: Record<string, string> }[] = [];
  let webhookStatus = 500;

  beforeAll(async () => {
    h = await engineHarness({ env: { HANDOFF_WEBHOOK_URL: 'https://hooks.example.com/default', TEAM_FILE: teamFile() } });
    const { HttpClient } = await import('../../src/engine/adapters');
    const http = h.t.app.get(HttpClient);
    http.post = async (url: string, body: unknown, headers: Record<string, string>) => {
      webhookCalls.push({ url, body, headers });
      return { status: webhookStatus, body: '' };
    };
    ids = await seedPeople(h, [
      { ext: 'acme', csm: 'csm-tanaka', contacts: [{ ext: 'ken', role: 'admin' }, { ext: 'yui', role: 'member' }, { ext: 'noemail', email: null, role: 'admin' }] },
      { ext: 'beta', contacts: [{ ext: 'sam', role: 'admin' }] },
    ]);
  });
  afterAll(() => h.t.close());

  it('send, wait, branch, update, notify CSM and exit, each recorded in the history', async () => {
    await h.load(
      journey({
        key: 'tour',
        trigger: { type: 'event', event: 'signup' },
        steps: [
          send('hello', 'welcome', 'pause'),
          { id: 'pause', type: 'wait', durationMs: 2 * 86_400_000, next: 'engaged?' },
          { id: 'engaged?', type: 'branch', condition: cond('count(login, 7d) >= 1'), then: 'tips', else: 'handoff' },
          send('tips', 'tips', 'mark'),
          { id: 'handoff', type: 'notify_csm', reason: 'not logging in', next: 'mark' },
          { id: 'mark', type: 'update', accountTraits: { toured: true }, contactTraits: { tour_done: true }, phase: 'established', next: 'bye' },
          { id: 'bye', type: 'exit', reason: 'tour over' },
        ],
      }),
    );
    // Entered by the event (ken logs in during the wait; yui does not).
    await track(h, [{ user: 'ken', event: 'signup' }, { user: 'yui', event: 'signup' }]);
    const runs = await h.triggers.processEvents();
    expect(runs.filter((r) => r.error)).toEqual([]);
    const entered = await h.q(`SELECT id, subject_id FROM enrollments WHERE journey_key = 'tour' ORDER BY subject_id`);
    expect(entered.map((e) => String(e.subject_id))).toEqual([ids.contact.ken, ids.contact.yui]);
    await h.steps.drain();
    let msgs = await h.q(`SELECT contact_id, template, status, to_email, priority, category FROM messages ORDER BY contact_id`);
    expect(msgs).toEqual([
      { contact_id: ids.contact.ken, template: 'welcome', status: 'queued', to_email: 'ken@example.com', priority: 50, category: 'marketing' },
      { contact_id: ids.contact.yui, template: 'welcome', status: 'queued', to_email: 'yui@example.com', priority: 50, category: 'marketing' },
    ]);
    // The templates capability's render context is stored with each message (plus the journey).
    const [ctx] = await h.q(`SELECT context FROM messages WHERE contact_id = $1`, [ids.contact.ken]);
    expect(ctx.context).toMatchObject({ contact: { externalId: 'ken', email: 'ken@example.com' }, account: { externalId: 'acme' }, journey: { key: 'tour' } });
    // Nothing more happens before the wait ends.
    h.t.clock.advance(86_400_000);
    await track(h, [{ user: 'ken', event: 'login' }]);
    expect((await h.steps.drain()).claimed).toBe(0);
    h.t.clock.advance(86_400_000 + 1000);
    await h.steps.drain();
    msgs = await h.q(`SELECT contact_id, template FROM messages WHERE template = 'tips'`);
    expect(msgs).toEqual([{ contact_id: ids.contact.ken, template: 'tips' }]);
    const [ken, yui] = entered;
    expect(await historyOf(h, ken.id)).toEqual(['-:entered', 'hello:sent', 'pause:waiting', 'pause:waited', 'engaged?:then', 'tips:sent', 'mark:updated', 'bye:exited']);
    expect(await historyOf(h, yui.id)).toEqual(['-:entered', 'hello:sent', 'pause:waiting', 'pause:waited', 'engaged?:else', 'handoff:handoff', 'mark:updated', 'bye:exited']);
    const final = await h.q(`SELECT status, end_reason FROM enrollments WHERE journey_key = 'tour' ORDER BY subject_id`);
    expect(final).toEqual([
      { status: 'exited', end_reason: 'tour over' },
      { status: 'exited', end_reason: 'tour over' },
    ]);
    const [acct] = await h.q(`SELECT phase, traits FROM accounts WHERE id = $1`, [ids.account.acme]);
    expect(acct).toEqual({ phase: 'established', traits: { toured: true } });
    const contacts = await h.q(`SELECT external_id, traits FROM contacts WHERE external_id IN ('ken','yui') ORDER BY external_id`);
    expect(contacts.map((c) => c.traits)).toEqual([{ tour_done: true }, { tour_done: true }]);
    // The hand-off task carries the reason, the CSM and the signals at that moment; its webhook
    // is the owning CSM's from team.yaml (ahead of HANDOFF_WEBHOOK_URL).
    const handoffs = await h.q(`SELECT account_id, contact_id, reason, assignee, signals, webhook_status, webhook_url FROM handoffs`);
    expect(handoffs).toHaveLength(1);
    expect(handoffs[0]).toMatchObject({ account_id: ids.account.acme, contact_id: ids.contact.yui, reason: 'not logging in', assignee: 'csm-tanaka', webhook_status: 'pending', webhook_url: 'https://hooks.example.com/tanaka' });
    expect(handoffs[0].signals.signals).toEqual({ 'count(login,7d)': 0 });
  });

  it('retries a failing hand-off webhook with backoff, then delivers it once', async () => {
    const svc = h.t.app.get((await import('../../src/engine/handoff-webhooks')).HandoffWebhooksService);
    webhookStatus = 503;
    expect(await svc.deliverDue()).toEqual({ delivered: 0, retried: 1, failed: 0 });
    expect(await svc.deliverDue()).toEqual({ delivered: 0, retried: 0, failed: 0 }); // backing off
    h.t.clock.advance(61_000);
    webhookStatus = 200;
    expect(await svc.deliverDue()).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(webhookCalls).toHaveLength(2);
    expect(webhookCalls[1].headers['idempotency-key']).toEqual(webhookCalls[0].headers['idempotency-key']);
    expect(webhookCalls[1].body).toMatchObject({ type: 'touchline.handoff', reason: 'not logging in', account: { externalId: 'acme' } });
    const [row] = await h.q(`SELECT webhook_status, webhook_attempts FROM handoffs`);
    expect(row).toEqual({ webhook_status: 'delivered', webhook_attempts: 2 });
  });

  it('per-account journeys send to the recipients chosen by role, skipping those without an address', async () => {
    await h.load(
      journey({
        key: 'admins',
        subject: { type: 'account', recipients: { roles: ['admin'], where: cond('contact.consent') } },
        trigger: { type: 'event', event: 'plan_changed' },
        steps: [send('note', 'recap')],
      }),
    );
    await track(h, [{ user: 'yui', event: 'plan_changed' }, { user: 'sam', event: 'plan_changed' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    const msgs = await h.q(`SELECT account_id, contact_id FROM messages WHERE template = 'recap' ORDER BY contact_id`);
    expect(msgs).toEqual([
      { account_id: ids.account.acme, contact_id: ids.contact.ken },
      { account_id: ids.account.beta, contact_id: ids.contact.sam },
    ]);
    const done = await h.q(`SELECT status FROM enrollments WHERE journey_key = 'admins'`);
    expect(done).toEqual([{ status: 'completed' }, { status: 'completed' }]);
  });

  it('wait-until: met by an event before the timeout, else the timeout path', async () => {
    await h.load(
      journey({
        key: 'first-report',
        trigger: { type: 'event', event: 'trial' },
        steps: [
          { id: 'watch', type: 'wait_until', event: 'report_created', timeoutMs: 3 * 86_400_000, onMet: 'yay', onTimeout: 'nudge' },
          { id: 'yay', type: 'exit', reason: 'made a report' },
          send('nudge', 'reminder'),
        ],
      }),
    );
    await track(h, [{ user: 'ken', event: 'trial' }, { user: 'sam', event: 'trial' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    h.t.clock.advance(3_600_000);
    await track(h, [{ user: 'ken', event: 'report_created' }]);
    // The event wakes ken's enrollment at once (no need to wait for the timeout).
    const woken = await h.triggers.processEvents();
    expect(woken.find((w) => w.trigger === 'wake')?.candidates).toBe(1);
    await h.steps.drain();
    const rows = await h.q(`SELECT subject_id, status, end_reason FROM enrollments WHERE journey_key = 'first-report' ORDER BY subject_id`);
    expect(rows).toEqual([
      { subject_id: ids.contact.ken, status: 'exited', end_reason: 'made a report' },
      { subject_id: ids.contact.sam, status: 'active', end_reason: null },
    ]);
    h.t.clock.advance(3 * 86_400_000);
    await h.steps.drain();
    const [sam] = await h.q(`SELECT id, status FROM enrollments WHERE journey_key = 'first-report' AND subject_id = $1`, [ids.contact.sam]);
    expect(sam.status).toBe('completed');
    expect(await historyOf(h, sam.id)).toEqual(['-:entered', 'watch:waiting', 'watch:timeout', 'nudge:sent', '-:completed']);
  });

  it('an event for an enrollment a running batch holds wakes it once that batch commits (never skipped)', async () => {
    await h.load(
      journey({
        key: 'held-watch',
        trigger: { type: 'event', event: 'trial2' },
        steps: [
          { id: 'watch', type: 'wait_until', event: 'report_shared', timeoutMs: 3 * 86_400_000, onMet: 'yay', onTimeout: 'bye' },
          { id: 'yay', type: 'exit', reason: 'shared a report' },
          { id: 'bye', type: 'exit', reason: 'timed out' },
        ],
      }),
    );
    await track(h, [{ user: 'ken', event: 'trial2' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    const [en] = await h.q(`SELECT id::text FROM enrollments WHERE journey_key = 'held-watch'`);
    // Another worker's batch holds ken's enrollment (its claim's row lock) while the event arrives.
    const other = new Client({ connectionString: h.t.db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT id FROM enrollments WHERE id = $1 FOR NO KEY UPDATE`, [en.id]);
      h.t.clock.advance(3_600_000);
      await track(h, [{ user: 'ken', event: 'report_shared' }]);
      let done = false;
      const woken = h.triggers.processEvents().finally(() => (done = true));
      await new Promise((res) => setTimeout(res, 300));
      expect(done).toBe(false); // the wake-up waits for the batch instead of skipping the enrollment
      await other.query('COMMIT');
      expect((await woken).find((w) => w.trigger === 'wake')?.candidates).toBe(1);
    } finally {
      await other.end();
    }
    await h.steps.drain();
    expect(await h.q(`SELECT status, end_reason FROM enrollments WHERE id = $1`, [en.id])).toEqual([{ status: 'exited', end_reason: 'shared a report' }]);
  });

  it('wait-until on a condition, and split arms drawn deterministically', async () => {
    await h.load(
      journey({
        key: 'ab',
        trigger: { type: 'event', event: 'ab_start' },
        steps: [
          { id: 'arm', type: 'split', arms: [{ name: 'a', percent: 50, next: 'sa' }, { name: 'b', percent: 50, next: 'sb' }] },
          send('sa', 'tips', 'hold'),
          send('sb', 'reminder', 'hold'),
          { id: 'hold', type: 'wait_until', condition: cond('account.trait.vip = true'), timeoutMs: 86_400_000, onMet: 'vip', onTimeout: 'done' },
          { id: 'vip', type: 'exit', reason: 'became vip' },
          { id: 'done', type: 'exit' },
        ],
      }),
    );
    await track(h, [{ user: 'ken', event: 'ab_start' }, { user: 'sam', event: 'ab_start' }]);
    await h.triggers.processEvents();
    await h.steps.drain();
    const { bucket } = await import('../../src/journeys/step-machine');
    const rows = await h.q(`SELECT subject_id, arms FROM enrollments WHERE journey_key = 'ab' ORDER BY subject_id`);
    for (const r of rows) expect(r.arms.arm).toBe(bucket('ab', `contact:${r.subject_id}`, 'split:arm') < 50 ? 'a' : 'b');
    await h.q(`UPDATE accounts SET traits = traits || '{"vip": true}' WHERE id = $1`, [ids.account.beta]);
    h.t.clock.advance(3_600_000);
    await h.q(`UPDATE enrollments SET due_at = $1 WHERE journey_key = 'ab'`, [h.t.clock.now()]); // a periodic re-check
    await h.steps.drain();
    const ends = await h.q(`SELECT subject_id, status, end_reason FROM enrollments WHERE journey_key = 'ab' ORDER BY subject_id`);
    expect(ends).toEqual([
      { subject_id: ids.contact.ken, status: 'active', end_reason: null },
      { subject_id: ids.contact.sam, status: 'exited', end_reason: 'became vip' },
    ]);
  });
});
