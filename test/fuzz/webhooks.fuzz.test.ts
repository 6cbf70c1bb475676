import fc from 'fast-check';
import { createSign, generateKeyPairSync, sign } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SnsEnvelope, SnsHttp, snsStringToSign } from '../../src/tracking/webhooks/sns';
import { startTestApp, TestApp } from '../support/app';
import { snsCertificate } from '../tracking/fixtures';

/**
 * Bounce and complaint webhooks under generated payloads, for every provider: mutated
 * provider samples and arbitrary JSON, correctly signed, unsigned and wrongly signed. Never
 * a 5xx; a refused request (any 4xx) writes nothing (no engagement event, no suppression, no
 * message status change); a payload with a bad signature is refused whatever it holds.
 */
const sample = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'tracking', 'samples', name), 'utf8'));
const ecdsa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const POSTMARK_AUTH = 'Basic ' + Buffer.from('postmark:correct-horse-battery').toString('base64');


const json = fc.jsonValue({ maxDepth: 3 });
const weird = fc.oneof(json, fc.constantFrom(null, '', 'x'.repeat(5000), -1, 1e308, 'not-an-address', '<script>', "'; DROP TABLE suppressions; --", [], {}));
/** A sample with random fields replaced, removed or added, at any depth. */
function mutated(base: unknown): fc.Arbitrary<unknown> {
  return fc.array(fc.record({ pick: fc.nat(), op: fc.constantFrom('set', 'delete', 'add'), value: weird, key: fc.string({ maxLength: 8 }) }), { maxLength: 4 }).map((ms) => {
    const v = structuredClone(base);
    for (const m of ms) {
      const slots: [Record<string, unknown>, string][] = [];
      const walk = (x: unknown) => {
        if (x && typeof x === 'object') for (const k of Object.keys(x)) (slots.push([x as Record<string, unknown>, k]), walk((x as Record<string, unknown>)[k]));
      };
      walk(v);
      if (!slots.length) break;
      const [o, k] = slots[m.pick % slots.length];
      if (m.op === 'set') o[k] = m.value;
      else if (m.op === 'delete') delete o[k];
      // An array's `length` set to a generated value throws in the generator itself, not in the service.
      else if (!(Array.isArray(o) && m.key === 'length')) o[m.key] = m.value;
    }
    return v;
  });
}

describe('webhooks under generated payloads', () => {
  let t: TestApp;
  let cert: { cert: string; key: string };
  beforeAll(async () => {
    cert = snsCertificate();
    t = await startTestApp({
      now: new Date().toISOString(),
      env: {
        SENDGRID_WEBHOOK_PUBLIC_KEY: ecdsa.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        POSTMARK_WEBHOOK_USER: 'postmark',
        POSTMARK_WEBHOOK_PASSWORD: 'correct-horse-battery',
        WEBHOOK_RATE_PER_MINUTE: '1000000',
      },
    });
    const sns = t.app.get(SnsHttp);
    sns.fetchCertificate = async () => cert.cert;
    sns.confirmSubscription = async () => {};
  });
  afterAll(() => t.close());

  const state = async () => {
    const [r] = await t.db.query<{ e: string; s: string }>(`SELECT (SELECT count(*) FROM engagement_events)::text AS e, (SELECT count(*) FROM suppressions)::text AS s`);
    return `${r.e}/${r.s}`;
  };
  async function expectSafe(what: string, send: () => Promise<{ status: number; text: string }>, mustRefuse = false) {
    const before = await state();
    const res = await send();
    if (res.status >= 500) throw new Error(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
    if (mustRefuse && res.status < 400) throw new Error(`${what}: accepted ${res.status} ${res.text.slice(0, 300)}`);
    if (res.status >= 400 && (await state()) !== before) throw new Error(`${what}: refused with ${res.status} but wrote rows`);
    if (res.status >= 400 && res.status !== 429 && !/"message"|<html|error/i.test(res.text)) throw new Error(`${what}: a refusal that names nothing: ${res.text}`);
  }

  const signSns = (message: unknown, version: '1' | '2', good: boolean) => {
    const env = { ...sample('sns-envelope.json'), MessageId: `sns-${Math.random()}`, Message: typeof message === 'string' ? message : JSON.stringify(message), Subject: undefined, SignatureVersion: version } as SnsEnvelope;
    const signer = createSign(version === '2' ? 'RSA-SHA256' : 'RSA-SHA1');
    signer.update(snsStringToSign(env));
    const signature = signer.sign(cert.key, 'base64');
    return { ...env, Signature: good ? signature : signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
  };

  it('SES via SNS: signed mutated notifications and envelopes, forged signatures', async () => {
    const notification = fc.oneof(mutated(sample('ses-bounce.json')), mutated(sample('ses-complaint.json')), json);
    await fc.assert(
      fc.asyncProperty(notification, fc.constantFrom<'1' | '2'>('1', '2'), fc.boolean(), mutated(sample('sns-envelope.json')), async (n, v, good, env) => {
        const body = signSns(n, v, good);
        const post = (b: unknown) => t.request('POST', '/webhooks/ses', { key: null, raw: JSON.stringify(b), headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' } });
        await expectSafe(`ses ${JSON.stringify(n).slice(0, 200)}`, () => post(body), !good);
        await expectSafe(`ses envelope ${JSON.stringify(env).slice(0, 200)}`, () => post(env), true); // unsigned (sample signature, other content)
      }),
      { numRuns: 200 },
    );
  }, 300_000);

  it('SendGrid: signed mutated event arrays, altered bodies, other keys', async () => {
    const events = fc.oneof(mutated(sample('sendgrid-events.json')), json, fc.array(mutated(sample('sendgrid-events.json')[0]), { maxLength: 5 }));
    await fc.assert(
      fc.asyncProperty(events, fc.constantFrom('good', 'other-key', 'altered', 'none'), async (ev, how) => {
        const body = JSON.stringify(ev);
        const ts = String(Math.floor(Date.now() / 1000));
        const key = how === 'other-key' ? other.privateKey : ecdsa.privateKey;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (how !== 'none') {
          headers['x-twilio-email-event-webhook-signature'] = sign('sha256', Buffer.from(ts + body), key).toString('base64');
          headers['x-twilio-email-event-webhook-timestamp'] = ts;
        }
        const raw = how === 'altered' ? body + ' ' : body;
        await expectSafe(`sendgrid ${how} ${body.slice(0, 200)}`, () => t.request('POST', '/webhooks/sendgrid', { key: null, raw, headers }), how !== 'good');
      }),
      { numRuns: 300 },
    );
  }, 300_000);

  it('Postmark: mutated bounce, complaint and delivery records, with and without credentials', async () => {
    const record = fc.oneof(mutated(sample('postmark-bounce.json')), mutated(sample('postmark-spam-complaint.json')), mutated(sample('postmark-delivery.json')), json);
    await fc.assert(
      fc.asyncProperty(record, fc.constantFrom(POSTMARK_AUTH, 'Basic ' + Buffer.from('postmark:wrong-password-xx').toString('base64'), 'Basic !!!', ''), async (r, auth) => {
        await expectSafe(`postmark ${JSON.stringify(r).slice(0, 200)}`, () => t.request('POST', '/webhooks/postmark', { key: null, body: r, headers: auth ? { authorization: auth } : {} }), auth !== POSTMARK_AUTH);
      }),
      { numRuns: 300 },
    );
  }, 300_000);

  it('generic: arbitrary event lists with the ingest key, refused without it', async () => {
    const event = fc.record(
      { type: fc.oneof(fc.constantFrom('hard_bounce', 'soft_bounce', 'complaint', 'delivered', 'bounce'), fc.string({ maxLength: 6 })), email: fc.oneof(fc.constantFrom(...['a@example.com', 'x', '', 'A@EXAMPLE.COM']), fc.emailAddress()), messageId: fc.oneof(fc.nat().map(String), fc.string({ maxLength: 12 }), fc.constant('<m@x>')), id: fc.string({ maxLength: 10 }), occurredAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 12 })), reason: fc.string({ maxLength: 20 }), extra: json },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.record({ events: fc.array(event, { maxLength: 6 }) }), json), fc.constantFrom<'ingest' | 'review' | null>('ingest', 'ingest', 'review', null), async (body, key) => {
        await expectSafe(`generic ${JSON.stringify(body).slice(0, 200)}`, () => t.request('POST', '/webhooks/generic', { key, body }), key !== 'ingest');
      }),
      { numRuns: 300 },
    );
  }, 300_000);
});
