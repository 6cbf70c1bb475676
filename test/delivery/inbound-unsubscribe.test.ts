import { Db } from '../../src/database/db';
import { unsubscribeToken } from '../../src/delivery/headers';
import { addressesOf } from '../../src/delivery/inbound-unsubscribe';
import { OutboxService } from '../../src/delivery/outbox.service';
import { signToken } from '../../src/tracking/tokens';
import { startTestApp, TestApp } from '../support/app';
import { seedContacts } from './support';

let t: TestApp;
let step = 0;

beforeAll(async () => {
  t = await startTestApp({ env: { DELIVERY_RATE_PER_SECOND: '0' } });
});
afterAll(() => t.close());

async function enqueue(contact: { id: string; email: string }, accountId: string, category: 'marketing' | 'operational' = 'marketing') {
  return t.app.get(Db).transaction((tx) =>
    t.app.get(OutboxService).enqueue(tx, {
      enrollmentId: 5000 + ++step, stepId: 'nudge', contactId: contact.id, accountId, toEmail: contact.email, journeyKey: 'adoption',
      template: 'nudge', locale: 'en', category, context: {}, scheduledAt: t.clock.now(),
    }),
  );
}

const mailbox = () => t.config.delivery.unsubscribeMailto;
const post = (body: unknown, key: 'ingest' | 'review' | null = 'ingest') => t.request('POST', '/webhooks/inbound', { key, body });
const suppressions = () => t.db.query(`SELECT email, scope, reason, source, message_id::text FROM suppressions ORDER BY email`);
const unsubscribeEvents = () => t.db.query(`SELECT message_id::text, contact_id::text, data FROM engagement_events WHERE kind = 'unsubscribe'`);
const status = async (id: string) => (await t.db.query(`SELECT status FROM messages WHERE id = $1`, [id]))[0].status;

describe('mail to the List-Unsubscribe mailto (inbound-parse webhook)', () => {
  it('needs the ingest or admin key', async () => {
    expect((await post({ to: mailbox(), subject: 'unsubscribe x.y.z' }, null)).status).toBe(401);
    expect((await post({ to: mailbox(), subject: 'unsubscribe x.y.z' }, 'review')).status).toBe(403);
  });

  it('unsubscribes exactly the signed recipient; forged, altered or misaddressed mail is a 400 and changes nothing', async () => {
    const { accountId, contacts } = await seedContacts(t, 2);
    const [alice, bob] = contacts;
    const sentToAlice = await enqueue(alice, accountId);
    const queuedAlice = await enqueue(alice, accountId);
    const operationalAlice = await enqueue(alice, accountId, 'operational');
    const queuedBob = await enqueue(bob, accountId);
    const keys = t.config.secrets.trackingKeys;
    const token = unsubscribeToken(keys, sentToAlice.id, alice.id);

    // Forged: signed with a key we do not hold.
    const forged = signToken([{ ...keys[0], secret: 'not-our-secret-not-our-secret-0000' }], { k: 'u', m: queuedBob.id, r: bob.id });
    // Altered: Alice's signature on a payload naming Bob's message.
    const [kid, , mac] = token.split('.');
    const bobPayload = Buffer.from(JSON.stringify({ k: 'u', m: queuedBob.id, r: bob.id })).toString('base64url');
    const altered = `${kid}.${bobPayload}.${mac}`;
    // Another purpose: a valid open-tracking token is not an unsubscribe token.
    const openToken = signToken(keys, { k: 'o', m: queuedBob.id, r: bob.id });
    for (const subject of [`unsubscribe ${forged}`, `unsubscribe ${altered}`, `unsubscribe ${openToken}`, `unsubscribe ${token.slice(0, -2)}`, 'please unsubscribe me']) {
      const r = await post({ to: mailbox(), from: bob.email, subject });
      expect({ subject, status: r.status }).toEqual({ subject, status: 400 });
    }
    const misaddressed = await post({ to: 'support@touchline.example', from: alice.email, subject: `unsubscribe ${token}` });
    expect(misaddressed.status).toBe(400);
    expect(misaddressed.body.error.problems).toEqual([{ path: 'to', message: `expected ${mailbox()} among the recipients` }]);
    expect((await post({ to: mailbox() })).status).toBe(400);
    expect(await suppressions()).toEqual([]);
    expect(await unsubscribeEvents()).toEqual([]);

    // The real one, as a mail client sends it (display name, a reply prefix, whatever From).
    const ok = await post({ to: [`"Unsubscribe" <${mailbox().toUpperCase()}>`], from: `Alice <${alice.email}>`, subject: `Re: unsubscribe ${token}` });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ unsubscribed: alice.email, suppressedMessages: 2 });
    expect(await suppressions()).toEqual([{ email: alice.email, scope: 'marketing', reason: 'unsubscribed', source: 'mailto', message_id: sentToAlice.id }]);
    expect(await unsubscribeEvents()).toEqual([{ message_id: sentToAlice.id, contact_id: alice.id, data: { source: 'mailto' } }]);
    expect(await status(queuedAlice.id)).toBe('suppressed');
    expect(await status(operationalAlice.id)).toBe('queued');
    expect(await status(queuedBob.id)).toBe('queued');

    // Sent twice (clients retry): harmless.
    const again = await post({ to: mailbox(), subject: `unsubscribe ${token}` });
    expect(again.body).toEqual({ unsubscribed: alice.email, suppressedMessages: 0 });
    expect(await unsubscribeEvents()).toHaveLength(1);
  });

  it('reads the recipients of a To value in its usual forms', () => {
    expect(addressesOf('Unsub <Unsubscribe@Example.com>, b@x.jp; "c, d" <c@y.org>')).toEqual(['unsubscribe@example.com', 'b@x.jp', 'c@y.org']);
    expect(addressesOf(['a@x.jp', 'B <b@x.jp>'])).toEqual(['a@x.jp', 'b@x.jp']);
  });
});
