import type { TrackInput } from './segment.schema';

/**
 * The hot path of ingestion: a hand-written check of a track message that accepts exactly
 * what `trackSchema` accepts and returns the same parsed fields, at a fraction of zod's cost.
 * It only ever says "valid, here is the result" or "ask zod": a message it does not accept
 * goes through `trackSchema`, so rejections (and their messages) are zod's, unchanged.
 * `test/ingestion/track-fast-path.test.ts` compares both on generated input.
 */
export function parseTrackFast(raw: Record<string, unknown>): TrackInput | undefined {
  if (Object.getPrototypeOf(raw) !== Object.prototype) return undefined;
  const type = raw.type;
  if (type !== undefined && type !== 'track') return undefined;
  const event = raw.event;
  if (typeof event !== 'string') return undefined;
  const trimmed = event.trim();
  if (trimmed.length < 1 || trimmed.length > 200) return undefined;
  const messageId = raw.messageId;
  if (messageId !== undefined && (typeof messageId !== 'string' || messageId.length < 1 || messageId.length > 255)) return undefined;
  const userId = id(raw.userId);
  const anonymousId = id(raw.anonymousId);
  if (userId === BAD || anonymousId === BAD || !(userId || anonymousId)) return undefined;
  const timestamp = time(raw.timestamp);
  const originalTimestamp = time(raw.originalTimestamp);
  const sentAt = time(raw.sentAt);
  if (timestamp === BAD || originalTimestamp === BAD || sentAt === BAD) return undefined;
  const context = record(raw.context);
  const integrations = record(raw.integrations);
  const properties = record(raw.properties);
  if (context === BAD || integrations === BAD || properties === BAD) return undefined;
  const out: Record<string, unknown> = { event: trimmed };
  // Like zod's object: a key appears in the result only when the input has it.
  if ('type' in raw) out.type = type;
  if ('messageId' in raw) out.messageId = messageId;
  if ('userId' in raw) out.userId = userId;
  if ('anonymousId' in raw) out.anonymousId = anonymousId;
  if ('timestamp' in raw) out.timestamp = timestamp;
  if ('originalTimestamp' in raw) out.originalTimestamp = originalTimestamp;
  if ('sentAt' in raw) out.sentAt = sentAt;
  if ('context' in raw) out.context = context;
  if ('integrations' in raw) out.integrations = integrations;
  if ('properties' in raw) out.properties = properties;
  return out as TrackInput;
}

const BAD = Symbol('ask zod');

/** `id.nullish()`: a string of 1..255 characters or a finite number (as a string), or null/undefined. */
function id(v: unknown): string | null | undefined | typeof BAD {
  if (v === undefined || v === null) return v;
  if (typeof v === 'string') return v.length >= 1 && v.length <= 255 ? v : BAD;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : BAD;
  return BAD;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/** `isoTime.nullish()`. */
function time(v: unknown): Date | null | undefined | typeof BAD {
  if (v === undefined || v === null) return v;
  if (typeof v !== 'string' || v.length > 64 || !ISO_DATE.test(v)) return BAD;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? BAD : new Date(ms); // what zod's `new Date(v)` gives, without parsing twice
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * `record.optional()` for what JSON.parse produces: an object with Object.prototype. Zod
 * copies the keys (dropping an own `__proto__`); we keep the object itself, so anything
 * unusual is left to zod.
 */
function record(v: unknown): Record<string, unknown> | undefined | typeof BAD {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype || hasOwn.call(v, '__proto__')) return BAD;
  return v as Record<string, unknown>;
}
