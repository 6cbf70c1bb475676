import { createHash } from 'node:crypto';
import type { Problem } from '../common/errors';
import { zodProblems } from '../common/zod-problems';
import { AccountFields, ContactFields, mapAccount, mapContact } from './segment-mapping';
import { MESSAGE_TYPES, MessageType, schemaByType } from './segment.schema';

export interface NormalizedMessage {
  type: MessageType;
  messageId: string;
  userId?: string;
  anonymousId?: string;
  /** group: the account joined; track: `context.groupId` when the source sends it. */
  groupId?: string;
  event?: string;
  /** track properties, or the raw traits of identify/group (kept for audit). */
  properties: Record<string, unknown>;
  occurredAt: Date;
  contact?: ContactFields;
  account?: AccountFields;
}

export interface NormalizeLimits {
  maxMessageBytes: number;
  /** Timestamps further ahead than this are rejected (clock-skewed sources). */
  maxFutureMs: number;
}

export type Normalized = { ok: true; message: NormalizedMessage } | { ok: false; problems: Problem[] };

/**
 * Validates one Segment message and turns it into what the repository writes. `at` is the
 * field path prefix used in problems (`batch[3]` inside a batch, empty for single calls).
 */
export function normalizeMessage(
  raw: unknown,
  expectedType: MessageType | undefined,
  at: string,
  receivedAt: Date,
  limits: NormalizeLimits,
  envelope: { context?: Record<string, unknown> } = {},
): Normalized {
  const p = (field: string) => (at ? `${at}.${field}` : field);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail(at || '(root)', 'expected a JSON object');
  const size = Buffer.byteLength(JSON.stringify(raw));
  if (size > limits.maxMessageBytes) return fail(at || '(root)', `message is ${size} bytes; the limit is ${limits.maxMessageBytes} bytes`);
  // PostgreSQL text and jsonb cannot hold NUL: refuse it by path instead of failing the whole write.
  const nul = nulPath(raw, at || '(root)') ?? nulPath(envelope.context, 'context');
  if (nul) return fail(nul, 'must not contain the NUL character (\\u0000)');
  const declared = (raw as { type?: unknown }).type;
  const type = expectedType ?? declared;
  if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) {
    return fail(p('type'), `expected one of ${MESSAGE_TYPES.join(', ')} (got ${JSON.stringify(declared)})`);
  }
  if (expectedType && declared !== undefined && declared !== expectedType) {
    return fail(p('type'), `this endpoint takes "${expectedType}" messages (got ${JSON.stringify(declared)})`);
  }
  const parsed = schemaByType[type as MessageType].safeParse(raw);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error, at) };
  const m = parsed.data as Record<string, any>;
  const context: Record<string, unknown> = { ...(envelope.context ?? {}), ...(m.context ?? {}) };
  const occurredAt = eventTime(m.timestamp, m.sentAt, m.originalTimestamp, receivedAt);
  if (occurredAt.getTime() - receivedAt.getTime() > limits.maxFutureMs) {
    return fail(p('timestamp'), `is more than ${Math.round(limits.maxFutureMs / 3_600_000)} hours in the future (${occurredAt.toISOString()})`);
  }
  const base = {
    type: type as MessageType,
    messageId: m.messageId ?? derivedMessageId(raw),
    userId: m.userId ?? undefined,
    anonymousId: m.anonymousId ?? undefined,
    occurredAt,
  };
  if (type === 'track') {
    const groupId = context.groupId;
    return {
      ok: true,
      message: {
        ...base,
        event: m.event,
        properties: m.properties ?? {},
        groupId: typeof groupId === 'string' || typeof groupId === 'number' ? String(groupId) : undefined,
      },
    };
  }
  if (type === 'identify') {
    const { fields, problems } = mapContact(m.traits ?? {}, context, p('traits'));
    if (problems.length) return { ok: false, problems };
    return { ok: true, message: { ...base, properties: m.traits ?? {}, contact: fields } };
  }
  const { fields, problems } = mapAccount(m.traits ?? {}, p('traits'));
  if (problems.length) return { ok: false, problems };
  return { ok: true, message: { ...base, groupId: m.groupId, properties: m.traits ?? {}, account: fields } };
}

/** Segment's rule: an explicit timestamp wins; else correct the device clock by sentAt. */
function eventTime(timestamp?: Date | null, sentAt?: Date | null, originalTimestamp?: Date | null, receivedAt?: Date): Date {
  if (timestamp) return timestamp;
  if (originalTimestamp && sentAt && receivedAt) return new Date(receivedAt.getTime() - (sentAt.getTime() - originalTimestamp.getTime()));
  return originalTimestamp ?? receivedAt!;
}

/** A message without messageId gets one derived from its content, so a retry is still recognised. */
function derivedMessageId(raw: object): string {
  return 'auto-' + createHash('sha256').update(stableJson(raw)).digest('base64url').slice(0, 32);
}

function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const keys = Object.keys(v as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

function fail(path: string, message: string): Normalized {
  return { ok: false, problems: [{ path, message }] };
}

/** The path of the first key or string holding a NUL character, if any. */
function nulPath(v: unknown, path: string): string | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? path : undefined;
  if (!v || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v)) {
    const sub = Array.isArray(v) ? `${path}[${k}]` : path === '(root)' ? k : `${path}.${k}`;
    const found = k.includes('\u0000') ? sub : nulPath(x, sub);
    if (found) return found;
  }
  return undefined;
}
