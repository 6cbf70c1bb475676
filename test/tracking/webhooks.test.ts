import { createSign, generateKeyPairSync, sign } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SnsHttp, snsStringToSign, SnsEnvelope } from '../../src/tracking/webhooks/sns';
import { startTestApp, TestApp } from '../support/app';
import { seedMessage, SeededMessage, snsCertificate } from './fixtures';

const sample = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, 'samples', name), 'utf8'));


const ecdsa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const SENDGRID_PUBLIC = ecdsa.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
const POSTMARK_AUTH = 'Basic ' + Buffer.from('postmark:correct-horse-battery').toString('base64');

describe('bounce and complaint webhooks', () => {
  let t: TestApp;
  let cert: { cert: string; key: string };
  const fetched: string[] = [];
  const confirmed: string[] = [];
  beforeAll(async () => {
    cert = snsCertificate();
    // Real time: the certificate is valid from now.
    t = await startTestApp({
      now: new Date().toISOString(),
      env: { SENDGRID_WEBHOOK_PUBLIC_KEY: SENDGRID_PUBLIC, POSTMARK_WEBHOOK_USER: 'postmark', POSTMARK_WEBHOOK_PASSWORD: 'correct-horse-battery', SOFT_BOUNCE_THRESHOLD: '3' },
    });
    const sns = t.app.get(SnsHttp);
    sns.fetchCertificate = async (url) => {
      fetched.push(url);
      return cert.cert;
    };
    sns.confirmSubscription = async (url) => {
      confirmed.push(url);
    };
  });
  afterAll(() => t.close());

  const signSns = (m: Omit<SnsEnvelope, 'Signature'> & { Signature?: string }, version: '1' | '2' = '1') => {
    const env = { ...m, SignatureVersion: version } as SnsEnvelope;
    const signer = createSign(version === '2' ? 'RSA-SHA256' : 'RSA-SHA1');
    signer.update(snsStringToSign(env));
    return { ...env, Signature: signer.sign(cert.key, 'base64') };
  };
  const postSns = (body: unknown) => t.request('POST', '/webhooks/ses', { key: null, raw: JSON.stringify(body), headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': (body as { Type?: string }).Type ?? '' } });
  const sesNotification = (file: string, edit: (n: any) => void, version: '1' | '2' = '1') => {
    const n = sample(file);
    edit(n);
    return signSns({ ...sample('sns-envelope.json'), MessageId: `sns-${Math.random()}`, Message: JSON.stringify(n), Subject: undefined }, version);
  };
  const suppression = async (email: string) => t.db.query(`SELECT scope, reason, source FROM suppressions WHERE email = lower($1)`, [email]);
  const status = async (id: string) => (await t.db.query(`SELECT status, reason FROM messages WHERE id = $1`, [id]))[0];
  const queuedFor = (m: SeededMessage, category: 'marketing' | 'operational' = 'operational') => seedMessage(t, { contactId: m.contactId, accountId: m.accountId, email: m.email, sentAt: null, category });

  describe('Amazon SES via SNS', () => {
    it('confirms a signed subscription by visiting its SubscribeURL', async () => {
      const r = await postSns(signSns(sample('sns-subscription-confirmation.json')));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ confirmed: true });
      expect(confirmed).toEqual([sample('sns-subscription-confirmation.json').SubscribeURL]);
      expect(fetched[0]).toBe(sample('sns-subscription-confirmation.json').SigningCertURL);
    });

    it('refuses bad signatures, foreign certificate hosts and foreign subscribe URLs', async () => {
      const before = confirmed.length;
      const good = signSns(sample('sns-subscription-confirmation.json'));
      expect((await postSns({ ...good, Signature: good.Signature.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A')) })).status).toBe(403);
      expect((await postSns({ ...good, Token: good.Token + 'x' })).status).toBe(403); // altered after signing
      expect((await postSns(sample('sns-subscription-confirmation.json'))).status).toBe(403); // the docs' example signature
      const fetchedBefore = fetched.length;
      for (const url of ['https://evil.example/cert.pem', 'http://sns.us-west-2.amazonaws.com/c.pem', 'https://sns.us-west-2.amazonaws.com.evil.example/c.pem', 'https://user@sns.us-west-2.amazonaws.com/c.pem']) {
        const r = await postSns(signSns({ ...sample('sns-subscription-confirmation.json'), SigningCertURL: url }));
        expect({ url, status: r.status }).toEqual({ url, status: 403 });
        expect(r.body.error.problems).toEqual([{ path: 'SigningCertURL', message: 'not an Amazon SNS host' }]);
      }
      expect(fetched.length).toBe(fetchedBefore); // never fetched from elsewhere
      const offHost = await postSns(signSns({ ...sample('sns-subscription-confirmation.json'), SubscribeURL: 'https://evil.example/?Action=ConfirmSubscription' }));
      expect(offHost.status).toBe(400);
      expect(confirmed.length).toBe(before);
    });

    it('a permanent bounce (SignatureVersion 1 and 2) suppresses the address for all mail and settles its queued mail', async () => {
      for (const version of ['1', '2'] as const) {
        const m = await seedMessage(t);
        const queued = await queuedFor(m);
        const body = sesNotification('ses-bounce.json', (n) => {
          n.bounce.bouncedRecipients[0].emailAddress = m.email;
          n.bounce.feedbackId += version;
          n.mail.headers.push({ name: 'X-Touchline-Message-Id', value: m.id });
        }, version);
        const r = await postSns(body);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ recorded: 1, duplicates: 0, unmatched: 0, suppressed: [m.email] });
        expect(await suppression(m.email)).toEqual([{ scope: 'all', reason: 'hard_bounce', source: 'ses' }]);
        expect(await status(queued.id)).toEqual({ status: 'suppressed', reason: 'suppressed: hard_bounce' });
        const [ev] = await t.db.query(`SELECT * FROM engagement_events WHERE kind = 'bounce' AND email = $1`, [m.email]);
        expect(ev).toMatchObject({ message_id: m.id, contact_id: m.contactId, data: { bounceType: 'Permanent', status: '5.1.1', matchedBy: 'touchline_id' } });
        // SNS retries: the same notification again records nothing new.
        expect((await postSns(body)).body).toMatchObject({ recorded: 0, duplicates: 1 });
      }
    });

    it('a complaint suppresses; a transient bounce only counts', async () => {
      const m = await seedMessage(t);
      await postSns(sesNotification('ses-complaint.json', (n) => (n.complaint.complainedRecipients[0].emailAddress = m.email)));
      expect(await suppression(m.email)).toEqual([{ scope: 'all', reason: 'complaint', source: 'ses' }]);
      const soft = await seedMessage(t);
      const r = await postSns(sesNotification('ses-bounce.json', (n) => {
        n.bounce.bounceType = 'Transient';
        n.bounce.bounceSubType = 'MailboxFull';
        n.bounce.bouncedRecipients[0].emailAddress = soft.email;
        n.bounce.timestamp = new Date().toISOString();
      }));
      expect(r.body).toMatchObject({ recorded: 1, suppressed: [] });
      expect(await suppression(soft.email)).toEqual([]);
      expect(await t.db.query(`SELECT kind, message_id FROM engagement_events WHERE email = $1`, [soft.email])).toEqual([{ kind: 'soft_bounce', message_id: soft.id }]); // matched by address
    });

    it('bad payloads get a 400 naming the field path', async () => {
      const missing = { ...sample('sns-envelope.json') };
      delete missing.Type;
      const r1 = await postSns(missing);
      expect(r1.status).toBe(400);
      expect(r1.body.error.problems).toEqual([expect.objectContaining({ path: 'Type' })]);
      const r2 = await postSns(sesNotification('ses-bounce.json', (n) => delete n.bounce.bouncedRecipients[0].emailAddress));
      expect(r2.status).toBe(400);
      expect(r2.body.error.problems).toEqual([expect.objectContaining({ path: 'Message.bounce.bouncedRecipients[0].emailAddress' })]);
      const r3 = await postSns(signSns({ ...sample('sns-envelope.json'), Message: 'Hello world!' }));
      expect(r3.status).toBe(400);
      expect(r3.body.error.problems).toEqual([{ path: 'Message', message: 'expected a JSON string' }]);
      expect((await t.request('POST', '/webhooks/ses', { key: null, raw: '{not json', headers: { 'content-type': 'text/plain' } })).status).toBe(400);
    });
  });

  describe('SendGrid', () => {
    const signed = (body: string, ts = String(Math.floor(Date.now() / 1000))) => ({
      'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.from(ts + body), ecdsa.privateKey).toString('base64'),
      'x-twilio-email-event-webhook-timestamp': ts,
      'content-type': 'application/json',
    });

    it('verifies the ECDSA signature and records bounces, deliveries and spam reports (ignores deferred and opens)', async () => {
      const m = await seedMessage(t, { email: 'example@test.com' });
      const queued = await queuedFor(m);
      const body = JSON.stringify(sample('sendgrid-events.json'));
      const r = await t.request('POST', '/webhooks/sendgrid', { key: null, raw: body, headers: signed(body) });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ received: 5, recorded: 3, ignored: 2, duplicates: 0, rejected: [] });
      expect(await suppression('example@test.com')).toEqual([{ scope: 'all', reason: 'complaint', source: 'sendgrid' }]);
      expect(await status(queued.id)).toMatchObject({ status: 'suppressed' });
      const kinds = await t.db.query(`SELECT kind FROM engagement_events WHERE email = 'example@test.com' ORDER BY id`);
      expect(kinds.map((k) => k.kind)).toEqual(['bounce', 'delivered', 'complaint']);
      expect((await t.request('POST', '/webhooks/sendgrid', { key: null, raw: body, headers: signed(body) })).body).toMatchObject({ recorded: 0, duplicates: 3 });
    });

    it('refuses a bad, missing or replayed-with-changes signature', async () => {
      const body = JSON.stringify(sample('sendgrid-events.json'));
      const headers = signed(body);
      const altered = body.replace('500 unknown recipient', '250 fine');
      expect((await t.request('POST', '/webhooks/sendgrid', { key: null, raw: altered, headers })).status).toBe(403);
      expect((await t.request('POST', '/webhooks/sendgrid', { key: null, raw: body, headers: { ...headers, 'x-twilio-email-event-webhook-timestamp': '1' } })).status).toBe(403);
      expect((await t.request('POST', '/webhooks/sendgrid', { key: null, raw: body, headers: { 'content-type': 'application/json' } })).status).toBe(403);
      const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const ts = '1700000000';
      const forged = sign('sha256', Buffer.from(ts + body), other.privateKey).toString('base64');
      const r = await t.request('POST', '/webhooks/sendgrid', { key: null, raw: body, headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': forged, 'x-twilio-email-event-webhook-timestamp': ts } });
      expect(r.status).toBe(403);
    });

    it('keeps valid events and names the invalid ones', async () => {
      const body = JSON.stringify([{ email: 'sg-ok@example.com', timestamp: 1513299569, event: 'bounce', type: 'bounce', sg_event_id: 'sg-ok-1' }, { timestamp: 'yesterday', event: 'bounce' }]);
      const r = await t.request('POST', '/webhooks/sendgrid', { key: null, raw: body, headers: signed(body) });
      expect(r.status).toBe(200);
      expect(r.body.recorded).toBe(1);
      expect(r.body.rejected.map((p: { path: string }) => p.path)).toEqual(['[1].email', '[1].timestamp']);
      const bad = JSON.stringify({ not: 'an array' });
      const r2 = await t.request('POST', '/webhooks/sendgrid', { key: null, raw: bad, headers: signed(bad) });
      expect(r2.status).toBe(400);
      expect(r2.body.error.problems[0].path).toBe('(root)');
    });
  });

  describe('Postmark', () => {
    const post = (body: unknown, auth: string | null = POSTMARK_AUTH) => t.request('POST', '/webhooks/postmark', { key: null, body, headers: auth ? { authorization: auth } : {} });

    it('needs the configured basic-auth credentials', async () => {
      expect((await post(sample('postmark-bounce.json'), null)).status).toBe(401);
      expect((await post(sample('postmark-bounce.json'), 'Basic ' + Buffer.from('postmark:wrong-password-xx').toString('base64'))).status).toBe(401);
    });

    it('hard bounce and spam complaint suppress (matched by our metadata id), delivery is recorded', async () => {
      const m = await seedMessage(t);
      const bounce = { ...sample('postmark-bounce.json'), Email: m.email, Metadata: { 'touchline-message-id': m.id } };
      expect((await post(bounce)).body).toMatchObject({ recorded: 1, suppressed: [m.email] });
      expect(await suppression(m.email)).toEqual([{ scope: 'all', reason: 'hard_bounce', source: 'postmark' }]);
      const c = await seedMessage(t);
      await post({ ...sample('postmark-spam-complaint.json'), Email: c.email });
      expect(await suppression(c.email)).toEqual([{ scope: 'all', reason: 'complaint', source: 'postmark' }]);
      const d = await seedMessage(t);
      expect((await post({ ...sample('postmark-delivery.json'), Recipient: d.email, DeliveredAt: new Date().toISOString() })).body).toMatchObject({ recorded: 1, suppressed: [] });
      expect(await t.db.query(`SELECT kind, message_id FROM engagement_events WHERE email = $1`, [d.email])).toEqual([{ kind: 'delivered', message_id: d.id }]);
      expect((await post({ RecordType: 'Open', MessageID: 'x' })).body).toMatchObject({ ignored: 1, recorded: 0 });
    });

    it('names the missing field of a bad payload', async () => {
      const bad = { ...sample('postmark-bounce.json') };
      delete bad.Email;
      const r = await post(bad);
      expect(r.status).toBe(400);
      expect(r.body.error.problems).toEqual([expect.objectContaining({ path: 'Email' })]);
      expect((await post([1, 2])).status).toBe(400);
      // 64-bit ids keep their exact digits (two ids that differ only past double precision stay two events).
      const m = await seedMessage(t);
      const raw = (id: string) => JSON.stringify({ ...sample('postmark-bounce.json'), Type: 'SoftBounce', Email: m.email }).replace(/"ID":\d+/, `"ID":${id}`);
      for (const id of ['4323372036854775807', '4323372036854775806']) await t.request('POST', '/webhooks/postmark', { key: null, raw: raw(id), headers: { authorization: POSTMARK_AUTH, 'content-type': 'application/json' } });
      expect((await t.db.query(`SELECT external_id FROM engagement_events WHERE email = $1 ORDER BY id`, [m.email])).map((r) => r.external_id)).toEqual(['postmark:bounce:4323372036854775807', 'postmark:bounce:4323372036854775806']);
    });
  });

  describe('generic endpoint', () => {
    it('needs the ingest or admin key', async () => {
      expect((await t.request('POST', '/webhooks/generic', { key: null, body: { events: [] } })).status).toBe(401);
      expect((await t.request('POST', '/webhooks/generic', { key: 'review', body: { events: [] } })).status).toBe(403);
    });

    it('soft bounces suppress at the threshold; invalid items are named and valid ones kept', async () => {
      const m = await seedMessage(t);
      const queued = await queuedFor(m, 'marketing');
      const soft = (i: number) => ({ type: 'soft_bounce', email: m.email, messageId: m.id, id: `soft-${m.id}-${i}`, reason: '452 mailbox full' });
      const r1 = await t.request('POST', '/webhooks/generic', { key: 'ingest', body: { events: [soft(1), { type: 'hard_bounce', email: 'not-an-address' }, soft(2)] } });
      expect(r1.status).toBe(200);
      expect(r1.body).toMatchObject({ recorded: 2, suppressed: [], rejected: [{ path: 'events[1].email', message: 'expected an email address' }] });
      expect(await status(queued.id)).toMatchObject({ status: 'queued' });
      const r2 = await t.request('POST', '/webhooks/generic', { key: 'ingest', body: { events: [soft(3)] } });
      expect(r2.body).toMatchObject({ recorded: 1, suppressed: [m.email] });
      expect(await suppression(m.email)).toEqual([{ scope: 'all', reason: 'soft_bounces', source: 'generic' }]);
      expect(await status(queued.id)).toMatchObject({ status: 'suppressed' });
      const bad = await t.request('POST', '/webhooks/generic', { key: 'ingest', body: { events: [{ type: 'bounce', email: m.email, extra: 1 }] } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.problems.map((p: { path: string }) => p.path).sort()).toEqual(['events[0]', 'events[0].type']);
    });

    it('matches by the Message-ID header of our mail', async () => {
      const m = await seedMessage(t);
      const [{ message_id_header }] = await t.db.query(`SELECT message_id_header FROM messages WHERE id = $1`, [m.id]);
      await t.request('POST', '/webhooks/generic', { key: 'ingest', body: { events: [{ type: 'hard_bounce', email: m.email.toUpperCase(), messageId: message_id_header }] } });
      expect(await t.db.query(`SELECT message_id::text, data->>'matchedBy' AS how FROM engagement_events WHERE email = $1`, [m.email])).toEqual([{ message_id: m.id, how: 'message_id_header' }]);
    });
  });
});

describe('sending-health guard', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { COMPLAINT_MIN_SENT: '20', COMPLAINT_RATE_THRESHOLD: '0.04' } });
  });
  afterAll(() => t.close());

  it('pauses marketing mail when complaints over 7 days pass the threshold, reports it, and can be resumed', async () => {
    const sent: SeededMessage[] = [];
    for (let i = 0; i < 25; i++) sent.push(await seedMessage(t));
    const complain = (m: SeededMessage) => t.request('POST', '/webhooks/generic', { key: 'ingest', body: { events: [{ type: 'complaint', email: m.email, messageId: m.id }] } });
    await complain(sent[0]);
    let report = await t.request('GET', '/api/sending-health', { key: 'review' });
    expect(report.body).toMatchObject({ complaintRate: { complaints: 1, sent: 25, rate: 0.04, breached: false, judged: true }, pauses: [] });
    await complain(sent[1]); // 2 / 25 = 8% > 4%
    const [pause] = await t.db.query(`SELECT kind, reason, details FROM sending_pauses`);
    expect(pause).toMatchObject({ kind: 'marketing', reason: 'complaint_rate', details: { complaints: 2, sent: 25, rate: 0.08, threshold: 0.04, windowDays: 7 } });
    report = await t.request('GET', '/api/sending-health', { key: 'review' });
    expect(report.body.pauses).toEqual([expect.objectContaining({ kind: 'marketing', reason: 'complaint_rate' })]);
    expect((await t.request('DELETE', '/api/sending-health/pauses/marketing', { key: 'review' })).status).toBe(403);
    expect((await t.request('DELETE', '/api/sending-health/pauses/marketing', { key: 'admin' })).body).toEqual({ resumed: 'marketing' });
    // Eight days later the complaints are out of the window.
    t.clock.advanceDays(8);
    report = await t.request('GET', '/api/sending-health', { key: 'review' });
    expect(report.body).toMatchObject({ complaintRate: { complaints: 0, sent: 0, judged: false, breached: false }, pauses: [] });
  });
});
