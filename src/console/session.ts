import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Console sessions are signed cookies (HMAC-SHA256 with the session secret), so any API
 * process can verify them without a session store. A session names the scope it was opened
 * with and a fingerprint of that scope's key: rotating the key ends every session opened
 * with it. CSRF tokens are bound to the session id.
 */
export type ConsoleRole = 'review' | 'admin';

export interface Session {
  /** Random id; CSRF tokens are derived from it. */
  sid: string;
  role: ConsoleRole;
  /** Optional display name given at login (default assignee of hand-offs). */
  name: string;
  /** Fingerprint of the key used to log in. */
  kf: string;
  /** Issued and expiry, epoch seconds. */
  iat: number;
  exp: number;
}

export const SESSION_COOKIE = 'tl_session';
export const LOGIN_CSRF_COOKIE = 'tl_login_csrf';
export const LANG_COOKIE = 'tl_lang';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const mac = (secret: string, purpose: string, data: string) => createHmac('sha256', secret).update(`${purpose}\n${data}`).digest('base64url');

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function keyFingerprint(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 12);
}

export function newSession(input: { role: ConsoleRole; name: string; key: string; now: Date; ttlSeconds: number }): Session {
  const iat = Math.floor(input.now.getTime() / 1000);
  return { sid: randomBytes(16).toString('base64url'), role: input.role, name: input.name, kf: keyFingerprint(input.key), iat, exp: iat + input.ttlSeconds };
}

export function encodeSession(session: Session, secret: string): string {
  const body = b64(JSON.stringify(session));
  return `${body}.${mac(secret, 'session', body)}`;
}

export type SessionCheck = { ok: true; session: Session } | { ok: false; reason: 'missing' | 'malformed' | 'bad_signature' | 'expired' | 'key_rotated' };

/** Verifies signature, expiry and that the key the session was opened with is still current. */
export function decodeSession(cookie: string | undefined, secret: string, now: Date, currentKeys: Record<ConsoleRole, string>): SessionCheck {
  if (!cookie) return { ok: false, reason: 'missing' };
  const dot = cookie.indexOf('.');
  if (dot <= 0) return { ok: false, reason: 'malformed' };
  const body = cookie.slice(0, dot);
  if (!safeEqual(cookie.slice(dot + 1), mac(secret, 'session', body))) return { ok: false, reason: 'bad_signature' };
  let session: Session;
  try {
    session = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Session;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof session.exp !== 'number' || session.exp * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  if (session.role !== 'review' && session.role !== 'admin') return { ok: false, reason: 'malformed' };
  if (!safeEqual(session.kf, keyFingerprint(currentKeys[session.role]))) return { ok: false, reason: 'key_rotated' };
  return { ok: true, session };
}

export function csrfToken(session: Pick<Session, 'sid'>, secret: string): string {
  return mac(secret, 'csrf', session.sid);
}

export function csrfValid(session: Pick<Session, 'sid'>, secret: string, presented: unknown): boolean {
  return typeof presented === 'string' && presented.length > 0 && safeEqual(presented, csrfToken(session, secret));
}

/** The login form has no session yet: a double-submit token (cookie and field must match). */
export function newLoginCsrf(): string {
  return randomBytes(18).toString('base64url');
}

export function loginCsrfValid(cookie: unknown, field: unknown): boolean {
  return typeof cookie === 'string' && typeof field === 'string' && cookie.length >= 16 && safeEqual(cookie, field);
}

/** Parses a Cookie header (no dependency needed for this). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (!k || k in out) continue;
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

export function cookieHeader(name: string, value: string, opts: { maxAge?: number; httpOnly?: boolean; secure?: boolean; path?: string }): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${opts.path ?? '/console'}`, 'SameSite=Lax'];
  if (opts.httpOnly !== false) parts.push('HttpOnly');
  if (opts.secure) parts.push('Secure');
  if (opts.maxAge !== undefined) parts.push(`Max-Age=${opts.maxAge}`);
  return parts.join('; ');
}
