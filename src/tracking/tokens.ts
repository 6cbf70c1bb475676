import { createHmac, createSecretKey, KeyObject, timingSafeEqual } from 'node:crypto';
import type { TrackingKey } from '../config/secrets';

/**
 * Signed tokens for links in email (open, click, unsubscribe, preferences, survey). A token
 * is `<keyId>.<payload>.<mac>`: payload is base64url JSON, mac is HMAC-SHA256 over
 * `<keyId>.<payload>` with that key. The first key signs; every key in the set verifies, so
 * keys can rotate without breaking links already sent. Comparison is constant-time.
 */
export interface TokenPayload {
  /** purpose: o(pen), c(lick), u(nsubscribe), p(references), s(urvey) */
  k: 'o' | 'c' | 'u' | 'p' | 's';
  /** message id */
  m: string;
  /** recipient contact id */
  r: string;
  /** click: target URL; survey: kind and score */
  u?: string;
  q?: string;
  v?: number;
  /** click: the hidden honeypot link (only machines follow it) */
  h?: 1;
  /** click: the author's label for the link (reporting) */
  l?: string;
}

export type VerifyResult = { ok: true; payload: TokenPayload; keyId: string } | { ok: false; reason: string };

const MAX_TOKEN_LENGTH = 4096;

// Each secret's key object, made once: a key given as a string is converted again for every
// HMAC, and links are signed several times per message sent.
const keyObjects = new Map<string, KeyObject>();

function mac(secret: string, data: string): Buffer {
  let key = keyObjects.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    if (keyObjects.size < 64) keyObjects.set(secret, key);
  }
  return createHmac('sha256', key).update(data).digest();
}

export function signToken(keys: TrackingKey[], payload: TokenPayload): string {
  const key = keys[0];
  if (!key) throw new Error('no tracking key configured');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const signed = `${key.id}.${body}`;
  return `${signed}.${mac(key.secret, signed).toString('base64url')}`;
}

export function verifyToken(keys: TrackingKey[], token: string, purpose?: TokenPayload['k']): VerifyResult {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed token' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return { ok: false, reason: 'malformed token' };
  const [keyId, body, sig] = parts;
  const key = keys.find((k) => k.id === keyId);
  if (!key) return { ok: false, reason: 'unknown signing key' };
  // The MAC's text is compared with the canonical encoding of the expected one (constant-time):
  // a second spelling of the same bytes (other unused trailing bits) never passes.
  const expected = Buffer.from(mac(key.secret, `${keyId}.${body}`).toString('base64url'), 'latin1');
  const given = Buffer.from(sig, 'latin1');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  let payload: TokenPayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
  } catch {
    return { ok: false, reason: 'malformed token' };
  }
  if (!payload || typeof payload !== 'object' || typeof payload.m !== 'string' || typeof payload.r !== 'string') {
    return { ok: false, reason: 'malformed token' };
  }
  if (purpose && payload.k !== purpose) return { ok: false, reason: 'token is for another purpose' };
  return { ok: true, payload, keyId };
}
