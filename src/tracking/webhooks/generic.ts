import { z } from 'zod';
import { Problem } from '../../common/errors';
import { zodProblems } from '../../common/zod-problems';
import { bareAddress, BounceEvent, touchlineId } from './bounce-event';

/**
 * For relays we have no adapter for: `POST /webhooks/generic` with the ingest (or admin)
 * key, `{"events": [{"type": "hard_bounce", "email": "…", "messageId": "42", …}]}`.
 * `messageId` is our X-Touchline-Message-Id value or the Message-ID header of our mail.
 */
const event = z.object({
  type: z.enum(['hard_bounce', 'soft_bounce', 'complaint', 'delivered']),
  email: z.email('expected an email address'),
  messageId: z.string().max(998).optional(),
  id: z.string().min(1).max(200).optional(),
  occurredAt: z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date-time' }).optional(),
  reason: z.string().max(2000).optional(),
}).strict();

export const genericBody = z.object({ events: z.array(z.unknown()).min(1, 'expected at least one event').max(1000, 'at most 1000 events a call') });

export function parseGeneric(items: unknown[], now: Date): { events: BounceEvent[]; rejected: Problem[] } {
  const events: BounceEvent[] = [];
  const rejected: Problem[] = [];
  items.forEach((item, i) => {
    const r = event.safeParse(item);
    if (!r.success) {
      rejected.push(...zodProblems(r.error, `events[${i}]`));
      return;
    }
    const e = r.data;
    const ours = touchlineId(e.messageId);
    events.push({
      provider: 'generic',
      type: e.type,
      email: bareAddress(e.email),
      touchlineMessageId: ours,
      messageIdHeader: ours ? undefined : e.messageId,
      externalId: e.id ? `generic:${e.id}` : null,
      occurredAt: e.occurredAt ? new Date(e.occurredAt) : now,
      detail: { reason: e.reason },
    });
  });
  return { events, rejected };
}
