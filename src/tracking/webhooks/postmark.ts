import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { bareAddress, BounceEvent, parseDate, parseOrThrow, touchlineId } from './bounce-event';

/**
 * Postmark's bounce, spam-complaint and delivery webhooks (one JSON object per call).
 * Postmark does not sign webhooks; it supports basic-auth credentials in the webhook URL,
 * which we check. Our message id travels as metadata (X-PM-Metadata-touchline-message-id).
 */
const HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated']);
const SOFT = new Set(['Transient', 'SoftBounce', 'DnsError', 'Blocked', 'DMARCPolicy', 'Undeliverable', 'Unknown']);

const common = {
  MessageID: z.string().optional(),
  Metadata: z.record(z.string(), z.string()).optional(),
  MessageStream: z.string().optional(),
};
const bounce = z.object({
  RecordType: z.literal('Bounce'),
  // Postmark ids are 64-bit: the exact digits are read from the raw body (JSON numbers lose them).
  ID: z.number(),
  Type: z.string().min(1),
  TypeCode: z.number().int().optional(),
  Email: z.string().min(3),
  BouncedAt: z.string().min(1),
  Details: z.string().optional(),
  Description: z.string().optional(),
  ...common,
}).loose();
const spam = z.object({ RecordType: z.literal('SpamComplaint'), ID: z.number(), Type: z.string().optional(), Email: z.string().min(3), BouncedAt: z.string().min(1), ...common }).loose();
const delivery = z.object({ RecordType: z.literal('Delivery'), Recipient: z.string().min(3), DeliveredAt: z.string().min(1), ...common }).loose();
const other = z.object({ RecordType: z.string().min(1, 'expected a Postmark RecordType') }).loose();

export function parsePostmark(body: unknown, now: Date, rawBody?: Buffer): { events: BounceEvent[]; ignored: number } {
  const exactId = (id: number) => (rawBody ? /^\s*\{[\s\S]*?"ID"\s*:\s*(\d{1,20})\s*[,}]/.exec(rawBody.toString('utf8'))?.[1] : undefined) ?? String(id);
  const head = parseOrThrow(other, body, 'the Postmark webhook');
  const meta = (m?: Record<string, string>) => touchlineId(m?.['touchline-message-id'] ?? m?.touchline_message_id);
  if (head.RecordType === 'Bounce') {
    const b = parseOrThrow(bounce, body, 'the Postmark bounce');
    const type = HARD.has(b.Type) ? 'hard_bounce' : SOFT.has(b.Type) ? 'soft_bounce' : null;
    if (!type) return { events: [], ignored: 1 }; // auto-responders, subscribe notices, challenge mails…
    return {
      ignored: 0,
      events: [{ provider: 'postmark', type, email: bareAddress(b.Email), touchlineMessageId: meta(b.Metadata), externalId: `postmark:bounce:${exactId(b.ID)}`, occurredAt: parseDate(b.BouncedAt, now), detail: { type: b.Type, typeCode: b.TypeCode, details: b.Details, postmarkMessageId: b.MessageID } }],
    };
  }
  if (head.RecordType === 'SpamComplaint') {
    const s = parseOrThrow(spam, body, 'the Postmark spam complaint');
    return { ignored: 0, events: [{ provider: 'postmark', type: 'complaint', email: bareAddress(s.Email), touchlineMessageId: meta(s.Metadata), externalId: `postmark:spam:${exactId(s.ID)}`, occurredAt: parseDate(s.BouncedAt, now), detail: { postmarkMessageId: s.MessageID } }] };
  }
  if (head.RecordType === 'Delivery') {
    const d = parseOrThrow(delivery, body, 'the Postmark delivery');
    const externalId = d.MessageID ? `postmark:delivery:${d.MessageID}:${bareAddress(d.Recipient)}` : null;
    return { ignored: 0, events: [{ provider: 'postmark', type: 'delivered', email: bareAddress(d.Recipient), touchlineMessageId: meta(d.Metadata), externalId, occurredAt: parseDate(d.DeliveredAt, now), detail: { postmarkMessageId: d.MessageID } }] };
  }
  return { events: [], ignored: 1 };
}

/** Constant-time check of `Authorization: Basic …` against the configured pair. */
export function basicAuthMatches(header: string | undefined, user: string, password: string): boolean {
  if (!header || !/^basic /i.test(header)) return false;
  const given = Buffer.from(Buffer.from(header.slice(6).trim(), 'base64').toString('utf8'));
  const expected = Buffer.from(`${user}:${password}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
