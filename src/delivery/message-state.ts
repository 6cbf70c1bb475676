/**
 * The outbox message state machine, in one place. Every status change the delivery code
 * makes is one of these events; the repository's UPDATE statements take their `WHERE status`
 * guard from `from(event)`, so a row can only move along an edge listed here.
 *
 *   queued ─claim→ sending ─accepted→ sent
 *     │  ▲            ├─temporary_failure / released / lease_expired→ queued
 *     │  └─────────── ├─permanent_failure / retries_exhausted→ failed
 *     │               └─render_failed / lease_expired_ambiguous(review mode)→ review ─requeued→ queued
 *     ├─suppress / unsubscribed→ suppressed
 *     ├─defer (quiet hours, cap)→ deferred ─claim→ sending  (deferred behaves as queued, later)
 *     └─cap_expired→ capped
 *   holdout: written at enqueue for the control group, never sent.
 */

export const MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'failed', 'suppressed', 'capped', 'deferred', 'holdout', 'review'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const TRANSITIONS = {
  claim: { from: ['queued', 'deferred'], to: 'sending' },
  suppress: { from: ['queued', 'deferred'], to: 'suppressed' },
  unsubscribed: { from: ['queued', 'deferred'], to: 'suppressed' },
  defer: { from: ['queued', 'deferred'], to: 'deferred' },
  cap_expired: { from: ['queued', 'deferred'], to: 'capped' },
  accepted: { from: ['sending'], to: 'sent' },
  temporary_failure: { from: ['sending'], to: 'queued' },
  /** Claimed but never offered to SMTP (outage, pause, shutdown). */
  released: { from: ['sending'], to: 'queued' },
  permanent_failure: { from: ['sending'], to: 'failed' },
  retries_exhausted: { from: ['sending'], to: 'failed' },
  render_failed: { from: ['sending'], to: 'review' },
  /** Lease expired before the message was offered to SMTP: certainly not sent. */
  lease_expired: { from: ['sending'], to: 'queued' },
  /** Lease expired after the message was offered to SMTP: it may have been accepted. */
  lease_expired_ambiguous_retry: { from: ['sending'], to: 'queued' },
  lease_expired_ambiguous_review: { from: ['sending'], to: 'review' },
  /** An operator decided a message under review should go (again). */
  requeued: { from: ['review'], to: 'queued' },
} as const satisfies Record<string, { from: readonly MessageStatus[]; to: MessageStatus }>;

export type MessageEvent = keyof typeof TRANSITIONS;

export class IllegalTransition extends Error {
  constructor(
    readonly status: MessageStatus,
    readonly event: MessageEvent,
  ) {
    super(`a ${status} message cannot take "${event}"`);
    this.name = 'IllegalTransition';
  }
}

/** The status after `event`, or IllegalTransition. */
export function transition(status: MessageStatus, event: MessageEvent): MessageStatus {
  const t = TRANSITIONS[event];
  if (!(t.from as readonly MessageStatus[]).includes(status)) throw new IllegalTransition(status, event);
  return t.to;
}

export function from(event: MessageEvent): MessageStatus[] {
  return [...TRANSITIONS[event].from];
}

export function to(event: MessageEvent): MessageStatus {
  return TRANSITIONS[event].to;
}

/** Statuses a message never leaves by itself. */
export function isFinal(status: MessageStatus): boolean {
  return status === 'sent' || status === 'failed' || status === 'suppressed' || status === 'capped' || status === 'holdout';
}
