import { createHash } from 'node:crypto';
import type { Problem } from '../common/errors';
import { zodProblems } from '../common/zod-problems';
import { AccountFields, ContactFields, mapAccount, mapContact } from './segment-mapping';
import { MESSAGE_TYPES, MessageType, schemaByType } from './segment.schema';
import { parseTrackFast } from './track-fast-path';

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
 * Track messages go through a hand-written check first (`parseTrackFast`); what it does not
 * accept, and every other type, goes through the zod schema, which names the problems.
 * `zodOnly` skips the fast check (for the test that compares both).
 */
export function normalizeMessage(
  raw: unknown,
  expectedType: MessageType | undefined,
  at: string,
  receivedAt: Date,
  limits: NormalizeLimits,
  envelope: { context?: Record<string, unknown> } = {},
  options: { zodOnly?: boolean } = {},
): Normalized {
  const p = (field: string) => (at ? `${at}.${field}` : field);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail(at || '(root)', 'expected a JSON object');
  const text = JSON.stringify(raw);
  const size = Buffer.byteLength(text);
  if (size > limits.maxMessageBytes) return fail(at || '(root)', `message is ${size} bytes; the limit is ${limits.maxMessageBytes} bytes`);
  // PostgreSQL text and jsonb cannot hold U+0000 or a lone surrogate: refuse them by path here
  // rather than fail the write (one scan of the text; the walk only when it finds one).
  const unstorable = text.includes('\\u') ? UNSTORABLE_ESCAPE.exec(text) : null;
  if (unstorable) return fail(unstorablePath(raw, at || '(root)') ?? (at || '(root)'), unstorableMessage(unstorable[1]));
  const inContext = envelope.context === undefined ? null : unstorableIn(envelope.context);
  if (inContext) return fail(unstorablePath(envelope.context, p('context')) ?? p('context'), unstorableMessage(inContext[1]));
  const declared = (raw as { type?: unknown }).type;
  const type = expectedType ?? declared;
  if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) {
    return fail(p('type'), `expected one of ${MESSAGE_TYPES.join(', ')} (got ${JSON.stringify(declared)})`);
  }
  if (expectedType && declared !== undefined && declared !== expectedType) {
    return fail(p('type'), `this endpoint takes "${expectedType}" messages (got ${JSON.stringify(declared)})`);
  }
  const fast = type === 'track' && !options.zodOnly ? parseTrackFast(raw as Record<string, unknown>) : undefined;
  let m: Record<string, any>;
  if (fast) m = fast;
  else {
    const parsed = schemaByType[type as MessageType].safeParse(raw);
    if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error, at) };
    m = parsed.data;
  }
  // The message's context over the batch's (built only for identify: track reads one key).
  const fromContext = (key: string): unknown => (m.context && Object.prototype.hasOwnProperty.call(m.context, key) ? m.context[key] : envelope.context?.[key]);
  const occurredAt = eventTime(m.timestamp, m.sentAt, m.originalTimestamp, receivedAt);
  if (occurredAt.getTime() - receivedAt.getTime() > limits.maxFutureMs) {
    return fail(p('timestamp'), `is more than ${Math.round(limits.maxFutureMs / 3_600_000)} hours in the future (${occurredAt.toISOString()})`);
  }
  const messageId: string = m.messageId ?? derivedMessageId(raw);
  const userId: string | undefined = m.userId ?? undefined;
  const anonymousId: string | undefined = m.anonymousId ?? undefined;
  const base = { type: type as MessageType, messageId, userId, anonymousId, occurredAt };
  if (type === 'track') {
    const groupId = fromContext('groupId');
    // Written out rather than spread from `base`: this literal is the hot path of ingestion,
    // and an object spread costs several times more than the rest of the function.
    const message: NormalizedMessage = {
      type: 'track',
      messageId,
      userId,
      anonymousId,
      occurredAt,
      event: m.event,
      properties: m.properties ?? {},
      groupId: typeof groupId === 'string' || typeof groupId === 'number' ? String(groupId) : undefined,
    };
    return { ok: true, message };
  }
  if (type === 'identify') {
    const context: Record<string, unknown> = { ...(envelope.context ?? {}), ...(m.context ?? {}) };
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

/**
 * In JSON.stringify's output, `\u0000` or a `\ud800`–`\udfff` escape (it escapes only
 * lone surrogates; pairs stay literal), not preceded by an escaping backslash.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(0000|d[89a-f][0-9a-f]{2})/;

/** A batch's shared context is scanned once, not once per message of the batch. */
const contextScans = new WeakMap<object, RegExpExecArray | null>();
function unstorableIn(context: Record<string, unknown>): RegExpExecArray | null {
  let found = contextScans.get(context);
  if (found === undefined) {
    found = UNSTORABLE_ESCAPE.exec(JSON.stringify(context));
    contextScans.set(context, found);
  }
  return found;
}

function unstorableMessage(code: string): string {
  return code === '0000' ? 'contains a NUL character (\\u0000), which cannot be stored' : `contains a lone UTF-16 surrogate (\\u${code}), which cannot be stored`;
}

function fail(path: string, message: string): Normalized {
  return { ok: false, problems: [{ path, message }] };
}

const UNSTORABLE_CHAR = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The path of the first key or string holding a NUL character or a lone surrogate, if any. */
function unstorablePath(v: unknown, path: string): string | undefined {
  if (typeof v === 'string') return UNSTORABLE_CHAR.test(v) ? path : undefined;
  if (!v || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v)) {
    const sub = Array.isArray(v) ? `${path}[${k}]` : path === '(root)' ? k : `${path}.${k}`;
    const found = UNSTORABLE_CHAR.test(k) ? sub : unstorablePath(x, sub);
    if (found) return found;
  }
  return undefined;
}
