/**
 * A fixed-window counter per key (hashed client IP and endpoint group), in memory. Each
 * API process limits on its own; behind N processes the effective limit is N times the
 * configured one, which is fine for its purpose (stop one client hammering public links).
 * `now` is passed in so tests move time without sleeping.
 */
export class RateLimiter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
  ) {}

  /** True when the request may proceed; counts it. */
  take(key: string, nowMs: number): boolean {
    const window = Math.floor(nowMs / this.windowMs) * this.windowMs;
    if (window !== this.windowStart) {
      // A new window forgets every key at once: memory stays bounded by one window's clients.
      this.windowStart = window;
      this.counts.clear();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.limit;
  }

  /** Seconds until the current window ends (Retry-After). */
  retryAfter(nowMs: number): number {
    return Math.max(1, Math.ceil((this.windowStart + this.windowMs - nowMs) / 1000));
  }
}
