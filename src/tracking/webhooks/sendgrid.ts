import { createPublicKey, KeyObject, verify } from 'node:crypto';
import { z } from 'zod';
import { Problem } from '../../common/errors';
import { zodProblems } from '../../common/zod-problems';
import { bareAddress, BounceEvent, parseDate, touchlineId } from './bounce-event';

/**
 * SendGrid's Event Webhook. Signed: ECDSA (P-256, SHA-256) over the timestamp header
 * followed by the raw body, signature base64 DER in X-Twilio-Email-Event-Webhook-Signature,
 * verified with the public key SendGrid shows when signing is enabled.
 */
export const SENDGRID_SIGNATURE = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP = 'x-twilio-email-event-webhook-timestamp';

export function sendgridKey(configured: string): KeyObject {
  const text = configured.trim();
  if (text.includes('BEGIN PUBLIC KEY')) return createPublicKey(text);
  return createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
}

export function verifySendgrid(key: KeyObject, signature: string | undefined, timestamp: string | undefined, rawBody: Buffer): boolean {
  if (!signature || !timestamp) return false;
  try {
    return verify('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

const event = z.object({
  email: z.string().min(3),
  timestamp: z.number().int().positive(),
  event: z.string().min(1),
  sg_event_id: z.string().optional(),
  sg_message_id: z.string().optional(),
  'smtp-id': z.string().optional(),
  type: z.string().optional(),
  reason: z.string().optional(),
  status: z.string().optional(),
  bounce_classification: z.string().optional(),
  touchline_message_id: z.union([z.string(), z.number()]).optional(),
}).loose();

export const sendgridBody = z.array(z.unknown()).min(1, 'expected at least one event').max(5000, 'at most 5000 events');

/**
 * bounce (type bounce) → hard; bounce of type "blocked" → soft; dropped because the address
 * bounced before → hard; spamreport (and dropped for a spam report) → complaint; delivered.
 * deferred is SendGrid still retrying: not a bounce. Opens/clicks are tracked by us.
 */
export function parseSendgrid(items: unknown[], now: Date): { events: BounceEvent[]; ignored: number; rejected: Problem[] } {
  const events: BounceEvent[] = [];
  const rejected: Problem[] = [];
  let ignored = 0;
  items.forEach((item, i) => {
    const r = event.safeParse(item);
    if (!r.success) {
      rejected.push(...zodProblems(r.error, `[${i}]`));
      return;
    }
    const e = r.data;
    let type: BounceEvent['type'] | null = null;
    if (e.event === 'bounce') type = e.type === 'blocked' ? 'soft_bounce' : 'hard_bounce';
    else if (e.event === 'spamreport') type = 'complaint';
    else if (e.event === 'delivered') type = 'delivered';
    else if (e.event === 'dropped' && /bounced address|invalid/i.test(e.reason ?? '')) type = 'hard_bounce';
    else if (e.event === 'dropped' && /spam report/i.test(e.reason ?? '')) type = 'complaint';
    if (!type) {
      ignored++;
      return;
    }
    events.push({
      provider: 'sendgrid',
      type,
      email: bareAddress(e.email),
      touchlineMessageId: touchlineId(e.touchline_message_id),
      messageIdHeader: e['smtp-id'],
      externalId: e.sg_event_id ? `sendgrid:${e.sg_event_id}` : null,
      occurredAt: parseDate(e.timestamp, now),
      detail: { event: e.event, type: e.type, reason: e.reason, status: e.status, classification: e.bounce_classification, sgMessageId: e.sg_message_id },
    });
  });
  return { events, ignored, rejected };
}
