import { Db } from '../../src/database/db';
import { ComposedMail, OutgoingMail, SmtpTransport } from '../../src/delivery/mail-transport';
import { NewMessage, OutboxService } from '../../src/delivery/outbox.service';
import { startTestApp, TestApp } from '../support/app';
import { drain, makeDispatcher, seedContacts, SmtpSink, startSmtpSink, TestRenderer } from './support';

let sink: SmtpSink;
let t: TestApp;
let step = 0;

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ env: { SMTP_URL: sink.url, PUBLIC_URL: 'https://touchline.test', DELIVERY_RATE_PER_SECOND: '0', DELIVERY_RETRY_BASE: '1m', DELIVERY_RETRY_FOR: '2d' } });
});
afterAll(async () => {
  await t.close();
  await sink.close();
});
beforeEach(() => {
  sink.received.length = 0;
  sink.rcpt = () => null;
});

async function enqueue(contact: { id: string; email: string }, accountId: string, over: Partial<NewMessage> = {}) {
  const outbox = t.app.get(OutboxService);
  return t.app.get(Db).transaction((tx) =>
    outbox.enqueue(tx, {
      enrollmentId: 1000 + ++step, stepId: 'welcome', contactId: contact.id, accountId, toEmail: contact.email, journeyKey: 'onboarding',
      template: 'welcome', locale: 'en', category: 'marketing', context: { name: `Ken ${step}` }, scheduledAt: t.clock.now(), ...over,
    }),
  );
}

/** The List-Unsubscribe header as written (unfolded). */
const listUnsubscribe = (raw: string) => String(raw.match(/^List-Unsubscribe: ([\s\S]*?)\r\n(?![ \t])/m)?.[1]).replace(/\r\n[ \t]+/g, ' ');

const row = async (id: string) => (await t.db.query(`SELECT * FROM messages WHERE id = $1`, [id]))[0];

describe('dispatcher over real SMTP', () => {
  it('sends both parts with Message-ID, bounce-matching header and RFC 8058 headers on marketing mail only', async () => {
    const { accountId, contacts } = await seedContacts(t, 2);
    const m = await enqueue(contacts[0], accountId);
    const op = await enqueue(contacts[1], accountId, { category: 'operational', template: 'invoice' });
    const { dispatcher, transport } = makeDispatcher(t, new TestRenderer());
    expect(await drain(dispatcher)).toMatchObject({ sent: 2 });
    await transport.close();
    const mk = sink.received.find((r) => r.to === contacts[0].email)!;
    expect(mk.mail.messageId).toMatch(new RegExp(`^<tl\\.${m.id}\\.\\w+@touchline\\.example>$`));
    expect(mk.mail.headers.get('x-touchline-message-id')).toBe(m.id);
    expect(mk.mail.subject).toMatch(/^Hello Ken \d+ \(welcome\)$/);
    expect(mk.mail.html).toContain('<b>Ken');
    expect(mk.mail.text).toContain('Hello Ken');
    const lu = listUnsubscribe(mk.raw);
    expect(lu).toMatch(/^<https:\/\/touchline\.test\/u\/[\w-]+\.[\w-]+\.[\w-]+>, <mailto:unsubscribe@touchline\.example\?subject=unsubscribe%20[\w.-]+>$/);
    expect(mk.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    // The link in the body is the same signed URL.
    expect(mk.mail.text).toContain(lu.slice(1, lu.indexOf('>')));
    const opMail = sink.received.find((r) => r.to === contacts[1].email)!;
    expect(opMail.raw).not.toMatch(/^List-Unsubscribe/im);
    expect(opMail.mail.headers.get('x-touchline-message-id')).toBe(op.id);
    const r = await row(m.id);
    expect(r).toMatchObject({ status: 'sent', attempts: 1, template_version: 'v-test-1', subject: mk.mail.subject, message_id_header: mk.mail.messageId, lease_until: null });
    expect(r.smtp_response).toMatch(/^250 /);
    expect(r.sent_at.toISOString()).toBe(t.clock.now().toISOString());
    // Each accepted message has its `delivered` engagement event, written with the status update.
    const events = await t.db.query(`SELECT message_id::text, contact_id::text, account_id::text, email, data, occurred_at FROM engagement_events WHERE kind = 'delivered' AND message_id = ANY($1) ORDER BY message_id`, [[m.id, op.id]]);
    expect(events).toEqual([
      { message_id: m.id, contact_id: contacts[0].id, account_id: accountId, email: contacts[0].email, data: { source: 'smtp', response: r.smtp_response }, occurred_at: r.sent_at },
      { message_id: op.id, contact_id: contacts[1].id, account_id: accountId, email: contacts[1].email, data: { source: 'smtp', response: expect.stringMatching(/^250 /) }, occurred_at: r.sent_at },
    ]);
  });

  it('one-click unsubscribe: GET only confirms, POST suppresses every queued marketing message at once', async () => {
    const { accountId, contacts } = await seedContacts(t, 1);
    const first = await enqueue(contacts[0], accountId);
    const { dispatcher, transport } = makeDispatcher(t, new TestRenderer());
    await drain(dispatcher);
    await transport.close();
    const later = await enqueue(contacts[0], accountId, { scheduledAt: new Date(t.clock.now().getTime() + 86_400_000) });
    const operational = await enqueue(contacts[0], accountId, { category: 'operational', template: 'invoice' });
    const lu = listUnsubscribe(sink.received[0].raw);
    const path = new URL(lu.slice(1, lu.indexOf('>'))).pathname;

    const page = await t.request('GET', path, { key: null });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<form method="post">');
    expect(await t.db.query(`SELECT 1 FROM suppressions`)).toHaveLength(0);

    const post = await t.request('POST', path, { key: null, raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(post.status).toBe(200);
    expect(post.headers.get('set-cookie')).toBeNull();
    expect(post.headers.get('location')).toBeNull();
    expect(await t.db.query(`SELECT email, scope, reason, source, message_id::text FROM suppressions`)).toEqual([
      { email: contacts[0].email, scope: 'marketing', reason: 'unsubscribed', source: 'one-click', message_id: first.id },
    ]);
    expect((await row(later.id)).status).toBe('suppressed');
    expect((await row(operational.id)).status).toBe('queued');
    const kinds = `SELECT kind FROM engagement_events WHERE message_id = $1 ORDER BY id`;
    expect(await t.db.query(kinds, [first.id])).toEqual([{ kind: 'delivered' }, { kind: 'unsubscribe' }]);
    // Again: idempotent; the page now says so.
    expect((await t.request('POST', path, { key: null, raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(200);
    expect(await t.db.query(kinds, [first.id])).toHaveLength(2);
    // Multipart form body (RFC 8058 allows it) and bad input.
    const boundary = 'xyz';
    const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
    expect((await t.request('POST', path, { key: null, raw: multipart, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } })).status).toBe(200);
    expect((await t.request('POST', path, { key: null, raw: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(400);
    expect((await t.request('GET', path.slice(0, -3) + 'AAA', { key: null })).status).toBe(400);
    expect((await t.request('POST', '/u/garbage', { key: null, raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(400);

    const again = makeDispatcher(t, new TestRenderer());
    await drain(again.dispatcher);
    await again.transport.close();
    expect((await row(operational.id)).status).toBe('sent');
  });

  it.each(['421 4.7.0 Too many connections, slow down', '451 4.3.0 Temporary local problem'])('retries with backoff on %s, then delivers', async (reply) => {
    const { accountId, contacts } = await seedContacts(t, 1);
    const m = await enqueue(contacts[0], accountId);
    // Refuse during the first two rounds (nodemailer may itself retry a 421 on a fresh connection at once).
    let refusing = true;
    sink.rcpt = (a) => (a === contacts[0].email && refusing ? reply : null);
    const { dispatcher, transport } = makeDispatcher(t, new TestRenderer());
    const start = t.clock.now().getTime();
    await drain(dispatcher);
    let r = await row(m.id);
    expect(r).toMatchObject({ status: 'queued', attempts: 1 });
    expect(r.last_error).toContain(reply.slice(0, 3));
    const firstDelay = r.scheduled_at.getTime() - start;
    expect(firstDelay).toBeGreaterThanOrEqual(30_000); // 1m base, ±50 % jitter
    expect(firstDelay).toBeLessThanOrEqual(90_000);
    t.clock.set(r.scheduled_at);
    await drain(dispatcher);
    r = await row(m.id);
    expect(r).toMatchObject({ status: 'queued', attempts: 2 });
    expect(r.scheduled_at.getTime() - t.clock.now().getTime()).toBeGreaterThanOrEqual(60_000); // doubled
    t.clock.set(r.scheduled_at);
    refusing = false;
    await drain(dispatcher);
    await transport.close();
    expect(await row(m.id)).toMatchObject({ status: 'sent', attempts: 3 });
    expect(sink.received.filter((x) => x.to === contacts[0].email)).toHaveLength(1);
    t.clock.set(start);
  });

  it('gives up as failed only after the retry period', async () => {
    const { accountId, contacts } = await seedContacts(t, 1);
    const m = await enqueue(contacts[0], accountId, { category: 'operational' });
    sink.rcpt = () => '451 4.3.0 still busy';
    const { dispatcher, transport } = makeDispatcher(t, new TestRenderer());
    const start = t.clock.now().getTime();
    for (let i = 0; i < 40; i++) {
      await drain(dispatcher);
      const r = await row(m.id);
      if (r.status !== 'queued') break;
      t.clock.set(r.scheduled_at);
    }
    await transport.close();
    const r = await row(m.id);
    expect(r.status).toBe('failed');
    expect(t.clock.now().getTime() - start).toBeGreaterThanOrEqual(2 * 86_400_000);
    expect(r.reason).toMatch(/^temporary failures for \d+ h over \d+ attempts; last: 451/);
    expect(await t.db.query(`SELECT 1 FROM suppressions WHERE email = $1`, [contacts[0].email])).toHaveLength(0);
    t.clock.set(start);
  });

  it('550 fails the message and hard-bounce-suppresses the address; 5.7.x is reported, not suppressed', async () => {
    const { accountId, contacts } = await seedContacts(t, 3);
    const bounced = await enqueue(contacts[0], accountId);
    const policy = await enqueue(contacts[1], accountId);
    const next = await enqueue(contacts[0], accountId, { category: 'operational', stepId: 'later', scheduledAt: new Date(t.clock.now().getTime() + 60_000) });
    sink.rcpt = (a) => (a === contacts[0].email ? '550 5.1.1 No such user here' : a === contacts[1].email ? '550 5.7.1 Message rejected by policy' : null);
    const { dispatcher, transport } = makeDispatcher(t, new TestRenderer());
    await drain(dispatcher);
    expect(await row(bounced.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await row(bounced.id)).reason).toContain('hard bounce: 550 5.1.1');
    expect(await row(policy.id)).toMatchObject({ status: 'failed' });
    expect((await row(policy.id)).reason).toContain('policy rejection (reported, address not suppressed)');
    expect(await t.db.query(`SELECT email, scope, reason FROM suppressions WHERE email IN ($1, $2)`, [contacts[0].email, contacts[1].email])).toEqual([{ email: contacts[0].email, scope: 'all', reason: 'hard_bounce' }]);
    expect(await t.db.query(`SELECT kind, classification FROM engagement_events WHERE message_id = $1`, [bounced.id])).toEqual([{ kind: 'bounce', classification: 'hard' }]);
    // A hard bounce suppresses operational mail too.
    t.clock.advance(60_000);
    await drain(dispatcher);
    await transport.close();
    expect(await row(next.id)).toMatchObject({ status: 'suppressed', reason: 'address suppressed: hard_bounce' });
    t.clock.advance(-60_000);
  });

  it('a provider outage pauses all sending and loses nothing', async () => {
    const { accountId, contacts } = await seedContacts(t, 3);
    const ids = [];
    for (const c of contacts) ids.push((await enqueue(c, accountId)).id);
    const dead = { ...t.config, smtp: { ...t.config.smtp, url: 'smtp://127.0.0.1:1', connectionTimeoutMs: 2000 } };
    const down = makeDispatcher(t, new TestRenderer(), { config: dead });
    await down.dispatcher.tick();
    await down.transport.close();
    const rows = await t.db.query(`SELECT status, attempts, send_started_at FROM messages WHERE id = ANY($1)`, [ids]);
    expect(rows).toEqual(ids.map(() => ({ status: 'queued', attempts: 0, send_started_at: null })));
    const [pause] = await t.db.query(`SELECT kind, reason, details FROM sending_pauses`);
    expect(pause).toMatchObject({ kind: 'all', reason: 'provider_outage' });
    // Every dispatcher honours the pause until it ends and the provider answers again.
    const up = makeDispatcher(t, new TestRenderer());
    expect(await up.dispatcher.tick()).toMatchObject({ paused: 'all mail: provider_outage', claimed: 0 });
    t.clock.advance(61_000);
    await drain(up.dispatcher);
    await up.transport.close();
    expect(await t.db.query(`SELECT 1 FROM sending_pauses`)).toHaveLength(0);
    expect((await t.db.query(`SELECT status FROM messages WHERE id = ANY($1)`, [ids])).map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    t.clock.advance(-61_000);
  });

  it('sends each mail as composed ahead of its send; a mail that fails to compose ahead is composed at its send', async () => {
    const { accountId, contacts } = await seedContacts(t, 4);
    const ids: string[] = [];
    for (const c of contacts) ids.push((await enqueue(c, accountId)).id);
    const transport = new SmtpTransport(t.config.smtp);
    const sent: Array<OutgoingMail | ComposedMail> = [];
    const send = transport.send.bind(transport);
    transport.send = (mail) => (sent.push(mail), send(mail));
    const compose = transport.compose.bind(transport);
    let calls = 0;
    transport.compose = (mail) => {
      if (++calls === 2) throw new Error('cannot compose now');
      return compose(mail);
    };
    const { dispatcher } = makeDispatcher(t, new TestRenderer(), { transport });
    expect(await drain(dispatcher)).toMatchObject({ sent: 4 });
    await transport.close();
    expect(sent.filter((m) => m instanceof ComposedMail)).toHaveLength(3);
    const plain = sent.filter((m): m is OutgoingMail => !(m instanceof ComposedMail));
    expect(plain).toHaveLength(1);
    // What was composed ahead is what arrived, byte for byte; the other was composed at its send.
    const raw = (id: string) => sink.received.find((r) => r.mail.headers.get('x-touchline-message-id') === id)?.raw;
    for (const m of sent) if (m instanceof ComposedMail) expect(raw(m.id)).toBe(Buffer.isBuffer(m.message.raw) ? m.message.raw.toString('utf8') : String(m.message.raw));
    expect(raw(plain[0].id)).toContain(`Message-ID: ${plain[0].messageId}`);
    expect((await t.db.query(`SELECT status FROM messages WHERE id = ANY($1)`, [ids])).map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });
});
