import { createHmac } from 'node:crypto';

/**
 * What we keep of a client address: a keyed hash (HMAC-SHA256, first 16 bytes), so the same
 * address can be recognised (rate of one scanner, a honeypot hit's other clicks) without the
 * address itself ever reaching the database or the logs. Without the key, guessing all 2^32
 * IPv4 addresses is useless.
 */
export function hashIp(key: string, ip: string | undefined): string | null {
  if (!ip) return null;
  const normal = ip.replace(/^::ffff:/, '').toLowerCase();
  return createHmac('sha256', key).update(normal).digest('base64url').slice(0, 22);
}

/** User agents are kept (they explain classifications) but capped in length. */
export function trimUserAgent(ua: string | undefined): string | null {
  if (!ua) return null;
  return ua.length > 512 ? ua.slice(0, 512) : ua;
}

/** How many addresses an IpHasher remembers before it starts over. */
const IP_HASH_CACHE = 10_000;

/**
 * hashIp with the hashes of recent addresses kept in memory (never written anywhere): hits
 * come in bursts from the same addresses (a reader, a mail provider's image proxy), so most
 * hits skip the HMAC. At most IP_HASH_CACHE addresses; then it forgets them all at once.
 */
export class IpHasher {
  private readonly recent = new Map<string, string | null>();

  constructor(private readonly key: string) {}

  hash(ip: string | undefined): string | null {
    if (!ip) return null;
    let h = this.recent.get(ip);
    if (h === undefined) {
      if (this.recent.size >= IP_HASH_CACHE) this.recent.clear();
      h = hashIp(this.key, ip);
      this.recent.set(ip, h);
    }
    return h;
  }
}
