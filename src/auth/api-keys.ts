import { createHash, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../common/errors';
import type { Scope } from '../config/config.schema';

/** Pulls an API key from `Authorization: Bearer`, `Authorization: Basic` (Segment write key as user name) or `X-API-Key`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers['authorization'];
  const auth = Array.isArray(header) ? header[0] : header;
  if (auth) {
    const [kind, value] = auth.split(' ', 2);
    if (kind?.toLowerCase() === 'bearer' && value) return value.trim();
    if (kind?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const user = decoded.split(':')[0];
      return user || undefined;
    }
  }
  const x = headers['x-api-key'];
  return (Array.isArray(x) ? x[0] : x) || undefined;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Digests of the configured keys (a handful per process), computed once rather than on every request. */
const configured = new Map<string, Buffer>();
function configuredDigest(key: string): Buffer {
  let d = configured.get(key);
  if (!d) {
    if (configured.size > 64) configured.clear();
    configured.set(key, (d = digest(key)));
  }
  return d;
}

/** Constant-time check of a presented key against the key of a scope (admin passes every scope). */
export function keyGrants(keys: Record<Scope, string>, presented: string, scope: Scope): boolean {
  const p = digest(presented);
  const matches = (k: string) => timingSafeEqual(configuredDigest(k), p);
  // Evaluate both comparisons so timing does not reveal which one matched.
  const scoped = matches(keys[scope]);
  const admin = matches(keys.admin);
  return scoped || admin;
}

/**
 * The API-key check of a route that requires `scope` (the global guard's, also used by the
 * raw ingestion listener): throws 401 when no key is presented, 403 when it lacks the scope.
 */
export function requireScope(keys: Record<Scope, string>, headers: Record<string, string | string[] | undefined>, scope: Scope): void {
  const key = presentedKey(headers);
  if (!key) throw new DomainError('unauthorized', `an API key with the "${scope}" scope is required (Authorization: Bearer KEY)`);
  if (!keyGrants(keys, key, scope)) throw new DomainError('forbidden', `this API key does not have the "${scope}" scope`);
}
