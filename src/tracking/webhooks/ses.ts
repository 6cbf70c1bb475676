import { z } from 'zod';
import { InvalidInput } from '../../common/errors';
import { bareAddress, BounceEvent, parseDate, parseOrThrow, touchlineId, TOUCHLINE_HEADER } from './bounce-event';

/**
 * Amazon SES notifications (the `Message` of an SNS notification): both the classic
 * notification format (`notificationType`) and event publishing (`eventType`). Bounce types:
 * Permanent → hard bounce; Transient and Undetermined → soft bounce.
 */
const mail = z.object({
  messageId: z.string().min(1),
  timestamp: z.string().optional(),
  destination: z.array(z.string()).optional(),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  commonHeaders: z.object({ messageId: z.string().optional() }).loose().optional(),
}).loose();

const bounce = z.object({
  bounceType: z.enum(['Undetermined', 'Permanent', 'Transient']),
  bounceSubType: z.string(),
  bouncedRecipients: z.array(z.object({ emailAddress: z.string().min(3), action: z.string().optional(), status: z.string().optional(), diagnosticCode: z.string().optional() }).loose()).min(1),
  timestamp: z.string(),
  feedbackId: z.string().min(1),
}).loose();

const complaint = z.object({
  complainedRecipients: z.array(z.object({ emailAddress: z.string().min(3) }).loose()).min(1),
  timestamp: z.string(),
  feedbackId: z.string().min(1),
  complaintFeedbackType: z.string().optional(),
}).loose();

const delivery = z.object({ timestamp: z.string(), recipients: z.array(z.string().min(3)).min(1) }).loose();

const notification = z.object({
  notificationType: z.string().optional(),
  eventType: z.string().optional(),
  mail,
  bounce: bounce.optional(),
  complaint: complaint.optional(),
  delivery: delivery.optional(),
}).loose();

export function parseSesMessage(message: string, snsMessageId: string, now: Date): { events: BounceEvent[]; ignored: number } {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    throw new InvalidInput('the SNS message is not an SES notification', [{ path: 'Message', message: 'expected a JSON string' }]);
  }
  const n = parseOrThrow(notification, json, 'the SES notification', 'Message');
  const kind = n.notificationType ?? n.eventType;
  const header = (name: string) => n.mail.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
  const base = {
    provider: 'ses' as const,
    touchlineMessageId: touchlineId(header(TOUCHLINE_HEADER)),
    messageIdHeader: n.mail.commonHeaders?.messageId ?? header('Message-ID'),
  };
  if (kind === 'Bounce') {
    const b = parseOrThrow(bounce, n.bounce, 'the SES bounce', 'Message.bounce');
    const type = b.bounceType === 'Permanent' ? 'hard_bounce' : 'soft_bounce';
    return {
      ignored: 0,
      events: b.bouncedRecipients.map((r) => ({
        ...base,
        type,
        email: bareAddress(r.emailAddress),
        externalId: `ses:${b.feedbackId}:${bareAddress(r.emailAddress)}`,
        occurredAt: parseDate(b.timestamp, now),
        detail: { bounceType: b.bounceType, bounceSubType: b.bounceSubType, status: r.status, diagnosticCode: r.diagnosticCode, snsMessageId },
      })),
    };
  }
  if (kind === 'Complaint') {
    const c = parseOrThrow(complaint, n.complaint, 'the SES complaint', 'Message.complaint');
    return {
      ignored: 0,
      events: c.complainedRecipients.map((r) => ({
        ...base,
        type: 'complaint' as const,
        email: bareAddress(r.emailAddress),
        externalId: `ses:${c.feedbackId}:${bareAddress(r.emailAddress)}`,
        occurredAt: parseDate(c.timestamp, now),
        detail: { complaintFeedbackType: c.complaintFeedbackType, snsMessageId },
      })),
    };
  }
  if (kind === 'Delivery') {
    const d = parseOrThrow(delivery, n.delivery, 'the SES delivery', 'Message.delivery');
    return {
      ignored: 0,
      events: d.recipients.map((r) => ({ ...base, type: 'delivered' as const, email: bareAddress(r), externalId: `ses:delivery:${n.mail.messageId}:${bareAddress(r)}`, occurredAt: parseDate(d.timestamp, now), detail: { snsMessageId } })),
    };
  }
  // Send, Reject, Open, Click, DeliveryDelay…: not ours to record (we track opens and clicks ourselves).
  return { events: [], ignored: 1 };
}
