import type { ZodError, ZodType } from 'zod';
import { InvalidInput, Problem } from '../../common/errors';
import { zodProblems } from '../../common/zod-problems';

/** A provider's bounce/complaint/delivery report, in one shape for every provider. */
export interface BounceEvent {
  provider: 'ses' | 'sendgrid' | 'postmark' | 'generic';
  type: 'hard_bounce' | 'soft_bounce' | 'complaint' | 'delivered';
  email: string;
  /** Our messages.id, from the X-Touchline-Message-Id header (or the provider's copy of it). */
  touchlineMessageId?: string;
  /** The Message-ID header of our mail, when the provider reports it. */
  messageIdHeader?: string;
  /** The provider's id for this event; the same id is recorded once (providers retry). */
  externalId: string | null;
  occurredAt: Date;
  detail: Record<string, unknown>;
}

/** What a webhook call did, returned to the provider (and shown in tests). */
export interface WebhookResult {
  received: number;
  recorded: number;
  duplicates: number;
  ignored: number;
  unmatched: number;
  suppressed: string[];
  rejected: Problem[];
}

export const TOUCHLINE_HEADER = 'X-Touchline-Message-Id';

/** Our message id from the X-Touchline-Message-Id header value (`42`, or `<prefix>-42`). */
export function touchlineId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value !== 'string') return undefined;
  const m = /^(?:[a-z]+-)?(\d{1,18})$/i.exec(value.trim());
  return m ? m[1] : undefined;
}

/** `"Ken Sato" <ken@acme.example>` or `ken@acme.example` → `ken@acme.example`. */
export function bareAddress(value: string): string {
  const angled = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  return (angled ? angled[1] : value).trim().toLowerCase();
}

export function parseDate(value: string | number | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? fallback : d;
}

/** Validates with zod; a failure is a 400 naming each field path. */
export function parseOrThrow<T>(schema: ZodType<T>, value: unknown, what: string, prefix = ''): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new InvalidInput(`${what} is not valid`, zodProblems(r.error as ZodError, prefix));
  return r.data;
}
