import { Db } from '../../src/database/db';
import { DispatchRepository } from '../../src/delivery/dispatch.repository';
import { NewMessage, OutboxService } from '../../src/delivery/outbox.service';
import { startTestApp, TestApp } from '../support/app';
import { drain, makeDispatcher, seedContacts, SmtpSink, startSmtpSink, TestRenderer } from './support';

let sink: SmtpSink;
let t: TestApp;
let step = 0;
const FRIDAY_NOON_TOKYO = '2026-11-20T03:00:00Z';

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ env: { SMTP_URL: sink.url, DELIVERY_RATE_PER_SECOND: '0', DELIVERY_CAPS: 'contact:2/7d,contact:1/1d', DELIVERY_SEND_WINDOW: 'Mon-Fri 09:00-18:00' } });
});
afterAll(async () => {
  await t.close();
  await sink.close();
});
beforeEach(async () => {
  sink.received.length = 0;
  t.clock.set(FRIDAY_NOON_TOKYO);
  await t.db.query(`DELETE FROM sending_pauses`);
});

function msg(contact: { id: string; email: string }, accountId: string, over: Partial<NewMessage> = {}): NewMessage {
  return { enrollmentId: 5000 + ++step, stepId: 's1', contactId: contact.id, accountId, toEmail: contact.email, template: 'nudge', locale: 'ja', category: 'marketing', context: { name: 'Aiko' }, scheduledAt: t.clock.now(), ...over };
}
const enqueue = (...m: NewMessage[]) => t.app.get(Db).transaction((tx) => t.app.get(OutboxService).enqueueMany(tx, m));
const rows = (ids: string[]) => t.db.query(`SELECT id::text, status, reason, scheduled_at FROM messages WHERE id = ANY($1) ORDER BY id`, [ids]);

async function run() {
  const { dispatcher, transport } = makeDispatcher(t, new TestRenderer());
  const totals = await drain(dispatcher);
  await transport.close();
  return totals;
}

describe('before each send', () => {
  it('enqueue is idempotent per enrollment + step + recipient, and validates', async () => {
    const { accountId, contacts } = await seedContacts(t, 1);
    const m = msg(contacts[0], accountId);
    const [a] = await enqueue(m);
    const [b] = await enqueue(m);
    expect(a.created).toBe(true);
    expect(b).toEqual({ key: a.key, id: a.id, created: false });
    expect(a.key).toBe(`e${m.enrollmentId}:ss1:c${contacts[0].id}`);
    await expect(enqueue(m, { ...msg(contacts[0], accountId), toEmail: 'not-an-address', category: 'promo' as 'marketing' })).rejects.toMatchObject({
      problems: [
        { path: '[1].toEmail', message: 'expected an email address (got "not-an-address")' },
        { path: '[1].category', message: 'expected marketing or operational' },
      ],
    });
  });

  it('holdout messages are recorded and never sent; suppressions and missing consent suppress', async () => {
    const { accountId, contacts } = await seedContacts(t, 3);
    const { contacts: noConsent } = await seedContacts(t, 1, { consent: false });
    await t.db.query(`INSERT INTO suppressions (email, scope, reason, created_at, updated_at) VALUES ($1, 'all', 'complaint', now(), now())`, [contacts[1].email.toUpperCase().toLowerCase()]);
    const ids = (await enqueue(msg(contacts[0], accountId, { holdout: true }), msg(contacts[1], accountId, { toEmail: contacts[1].email.toUpperCase() }), msg(noConsent[0], accountId), msg(contacts[2], accountId))).map((e) => e.id);
    await run();
    expect((await rows(ids)).map((r) => [r.status, r.reason])).toEqual([
      ['holdout', null],
      ['suppressed', 'address suppressed: complaint'],
      ['suppressed', 'no marketing consent (refused)'],
      ['sent', null],
    ]);
    const to = sink.received.map((r) => r.to);
    expect(to).toContain(contacts[2].email);
    for (const c of [contacts[0], contacts[1], noConsent[0]]) expect(to).not.toContain(c.email);
  });

  it('frequency caps across journeys: the higher priority wins, the other waits and goes when allowed', async () => {
    const { accountId, contacts } = await seedContacts(t, 1);
    const c = contacts[0];
    const [low, high] = (await enqueue(msg(c, accountId, { journeyKey: 'tips', priority: 1 }), msg(c, accountId, { journeyKey: 'rescue', priority: 5 }))).map((e) => e.id);
    await run();
    let [l, h] = await rows([low, high]);
    expect(h.status).toBe('sent');
    expect(l).toMatchObject({ status: 'deferred', reason: 'frequency cap contact:1/1d' });
    // A day later is Saturday: the deferral lands on the next window opening, Monday 09:00 Tokyo.
    expect(l.scheduled_at.toISOString()).toBe('2026-11-23T00:00:00.000Z');
    t.clock.set('2026-11-23T00:00:00Z');
    await run();
    [l] = await rows([low]);
    expect(l.status).toBe('sent');
    // Two this week: a third waits for the weekly cap, and expires as capped when it cannot wait that long.
    t.clock.set('2026-11-24T01:00:00Z');
    const [third] = (await enqueue(msg(c, accountId, { expiresAt: new Date('2026-11-25T00:00:00Z') }))).map((e) => e.id);
    await run();
    const [x] = await rows([third]);
    expect(x.status).toBe('capped');
    expect(x.reason).toMatch(/^frequency cap contact:2\/1w: next allowed 2026-11-27T03:00:00.000Z, after the message expired at 2026-11-25T00:00:00.000Z$/);
    // Operational mail is exempt.
    const [op] = (await enqueue(msg(c, accountId, { category: 'operational' }))).map((e) => e.id);
    await run();
    expect((await rows([op]))[0].status).toBe('sent');
  });

  it('a due higher-priority message held elsewhere still takes the slot', async () => {
    const { accountId, contacts } = await seedContacts(t, 1);
    const [low, high] = (await enqueue(msg(contacts[0], accountId, { priority: 1 }), msg(contacts[0], accountId, { priority: 9 }))).map((e) => e.id);
    // Another dispatcher holds the high-priority row (locked, not yet decided) while this one claims.
    const repo = t.app.get(DispatchRepository);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const other = repo.transaction(async (tx) => {
      await tx.query(`SELECT id FROM messages WHERE id = $1 FOR UPDATE`, [high]);
      locked();
      await held;
    });
    await isLocked;
    await run();
    release();
    await other;
    const [l] = await rows([low]);
    expect(l.status).toBe('deferred');
    expect(l.reason).toBe(`frequency cap contact:1/1d (higher-priority message ${high} goes first)`);
    await run();
    expect((await rows([high]))[0].status).toBe('sent');
  });

  it('quiet hours in each recipient timezone (contact, else account, else default)', async () => {
    const tokyo = await seedContacts(t, 1, { timezone: 'Asia/Tokyo' });
    const ny = await seedContacts(t, 1, { timezone: 'America/New_York' });
    const berlin = await seedContacts(t, 1, { timezone: null, accountTz: 'Europe/Berlin' });
    const dflt = await seedContacts(t, 1, { timezone: 'Not/AZone', accountTz: null });
    const ids = (
      await enqueue(
        msg(tokyo.contacts[0], tokyo.accountId),
        msg(ny.contacts[0], ny.accountId),
        msg(berlin.contacts[0], berlin.accountId),
        msg(dflt.contacts[0], dflt.accountId),
        msg(ny.contacts[0], ny.accountId, { category: 'operational' }),
      )
    ).map((e) => e.id);
    await run();
    let r = await rows(ids);
    expect(r.map((x) => x.status)).toEqual(['sent', 'deferred', 'deferred', 'sent', 'sent']);
    expect(r[1].scheduled_at.toISOString()).toBe('2026-11-20T14:00:00.000Z'); // 09:00 EST
    expect(r[1].reason).toBe('outside the send window (Mon+Tue+Wed+Thu+Fri 09:00-18:00 in America/New_York)');
    expect(r[2].scheduled_at.toISOString()).toBe('2026-11-20T08:00:00.000Z'); // 09:00 CET
    t.clock.set('2026-11-20T08:00:00Z');
    await run();
    t.clock.set('2026-11-20T14:00:00Z');
    await run();
    r = await rows(ids);
    expect(r.map((x) => x.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
  });

  it('sending_pauses pause marketing or all mail', async () => {
    const { accountId, contacts } = await seedContacts(t, 2);
    const [mk, op] = (await enqueue(msg(contacts[0], accountId), msg(contacts[1], accountId, { category: 'operational' }))).map((e) => e.id);
    await t.db.query(`INSERT INTO sending_pauses (kind, reason, created_at) VALUES ('all', 'manual', now())`);
    const { dispatcher, transport } = makeDispatcher(t, new TestRenderer());
    expect(await dispatcher.tick()).toMatchObject({ paused: 'all mail: manual', claimed: 0 });
    await t.db.query(`UPDATE sending_pauses SET kind = 'marketing', reason = 'complaint rate'`);
    await drain(dispatcher);
    expect((await rows([mk, op])).map((x) => x.status)).toEqual(['queued', 'sent']);
    await t.db.query(`DELETE FROM sending_pauses`);
    await drain(dispatcher);
    await transport.close();
    expect((await rows([mk]))[0].status).toBe('sent');
  });

  it('recovers expired leases: never offered → queued; offered → sent again (retry) or held (review)', async () => {
    const { accountId, contacts } = await seedContacts(t, 3);
    const ids = (await enqueue(...contacts.map((c) => msg(c, accountId, { category: 'operational' })))).map((e) => e.id);
    const past = new Date(t.clock.now().getTime() - 1000);
    await t.db.query(`UPDATE messages SET status = 'sending', attempts = 1, lease_until = $2::timestamptz, leased_by = 'dead:1', send_started_at = CASE WHEN id = $1::bigint THEN NULL ELSE $2::timestamptz END WHERE id = ANY($3)`, [ids[0], past, ids]);
    const repo = t.app.get(DispatchRepository);
    await t.db.query(`UPDATE messages SET lease_until = $2 WHERE id = $1`, [ids[2], new Date(t.clock.now().getTime() + 60_000)]);
    expect(await repo.recoverExpired(t.clock.now(), 'retry')).toEqual({ requeued: 1, ambiguous: 1 });
    const r = await t.db.query(`SELECT status, attempts, reason FROM messages WHERE id = ANY($1) ORDER BY id`, [ids]);
    expect(r[0]).toMatchObject({ status: 'queued', attempts: 0, reason: 'lease expired before sending (dispatcher dead:1 stopped); queued again' });
    expect(r[1]).toMatchObject({ status: 'queued', attempts: 1 });
    expect(r[1].reason).toMatch(/^lease expired after it was offered to SMTP at .*: it may have been accepted; sent again with the same Message-ID$/);
    expect(r[2].status).toBe('sending'); // lease still valid
    t.clock.advance(120_000);
    expect(await repo.recoverExpired(t.clock.now(), 'review')).toEqual({ requeued: 0, ambiguous: 1 });
    expect((await t.db.query(`SELECT status FROM messages WHERE id = $1`, [ids[2]]))[0].status).toBe('review');
  });
});
