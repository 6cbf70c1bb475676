import { Client } from 'pg';
import { SignedLinkBuilder } from '../../src/tracking/link-builder';
import { TEST_KEYS } from '../support/app';

/** Request latencies (ms): per reporting interval and for the whole run. */
export class Latencies {
  private interval: number[] = [];
  readonly all: number[] = [];

  add(ms: number): void {
    this.interval.push(ms);
    this.all.push(ms);
  }

  /** Percentiles of the interval just ended, then starts a new one. */
  takeInterval(): Percentiles {
    const p = percentiles(this.interval);
    this.interval = [];
    return p;
  }
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

export function percentiles(samples: number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.ceil(s.length * q) - 1)] * 10) / 10 : 0);
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/**
 * Open-loop load at a fixed rate: `fire` is started `ratePerSecond` times a second however
 * slowly the service answers (up to `maxInFlight` at once; a request that cannot start for
 * that reason is counted as `skipped`, so saturation shows instead of hiding).
 */
export function paced(ratePerSecond: number, maxInFlight: number, fire: () => Promise<void>) {
  let launched = 0;
  let skipped = 0;
  let inFlight = 0;
  let stopped = false;
  const started = performance.now();
  const idle: Array<() => void> = [];
  const timer = setInterval(() => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - started) / 1000) * ratePerSecond);
    while (launched + skipped < due) {
      if (inFlight >= maxInFlight) {
        skipped += due - launched - skipped;
        break;
      }
      launched++;
      inFlight++;
      void fire().finally(() => {
        inFlight--;
        if (inFlight === 0) idle.splice(0).forEach((r) => r());
      });
    }
  }, 20);
  return {
    counts: () => ({ launched, skipped, inFlight }),
    /** Stops starting requests and waits for those in flight. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      if (inFlight) await new Promise<void>((r) => idle.push(r));
    },
  };
}

const EVENTS = ['login', 'login', 'login', 'report_created', 'dashboard_viewed', 'mail_sent', 'export', 'invite_sent'];

/** Segment batches of track events for existing users, stamped with the shared virtual time. */
export class IngestLoad {
  readonly latency = new Latencies();
  acked = 0;
  duplicates = 0;
  rejected = 0;
  failedRequests = 0;
  eventsInFailedRequests = 0;
  private seq = 0;
  private readonly auth = 'Basic ' + Buffer.from(`${TEST_KEYS.ingest}:`).toString('base64');

  constructor(
    private readonly url: string,
    private readonly o: { accounts: number; contactsPerAccount: number; batch: number; virtualNow: () => Date },
  ) {}

  async send(): Promise<void> {
    const at = this.o.virtualNow().toISOString();
    const batch = Array.from({ length: this.o.batch }, () => {
      const n = this.seq++;
      const account = 1 + Math.floor(Math.random() * this.o.accounts);
      const k = 1 + Math.floor(Math.random() * this.o.contactsPerAccount);
      return { type: 'track', userId: `u-${account}-${k}`, event: EVENTS[n % EVENTS.length], messageId: `soak-${n}`, timestamp: at, properties: { source: 'soak', n } };
    });
    const t0 = performance.now();
    try {
      const res = await fetch(`${this.url}/v1/batch`, { method: 'POST', headers: { authorization: this.auth, 'content-type': 'application/json' }, body: JSON.stringify({ batch }) });
      const body = (await res.json()) as { accepted?: number; duplicates?: number; rejected?: unknown[] };
      this.latency.add(performance.now() - t0);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      this.acked += body.accepted ?? 0;
      this.duplicates += body.duplicates ?? 0;
      this.rejected += body.rejected?.length ?? 0;
    } catch {
      this.failedRequests++;
      this.eventsInFailedRequests += batch.length;
    }
  }
}

/**
 * Opens (3 in 4) and clicks on messages the dispatchers sent (and the generated past ones),
 * with links signed as the service signs them. The pool is refreshed from the outbox.
 */
export class TrackingLoad {
  readonly latency = new Latencies();
  answered = 0;
  failed = 0;
  private pool: Array<{ id: string; contact: string }> = [];
  private cursor = '0';

  constructor(
    private readonly url: string,
    private readonly keys: Array<{ id: string; secret: string }>,
  ) {}

  /** Adds up to 5,000 newer sent messages; the pool keeps the latest 20,000. */
  async refresh(pg: Client): Promise<void> {
    const rows = (
      await pg.query(`SELECT id::text, contact_id::text AS contact FROM messages WHERE id > $1 AND status = 'sent' AND contact_id IS NOT NULL ORDER BY id LIMIT 5000`, [this.cursor])
    ).rows as Array<{ id: string; contact: string }>;
    if (!rows.length) return;
    this.cursor = rows[rows.length - 1].id;
    this.pool = this.pool.concat(rows).slice(-20_000);
  }

  async hit(): Promise<void> {
    if (!this.pool.length) return;
    const m = this.pool[Math.floor(Math.random() * this.pool.length)];
    const links = new SignedLinkBuilder(this.keys, this.url, m.id, m.contact);
    const target = Math.random() < 0.75 ? links.openPixel() : links.track(`https://app.example.com/reports/${m.id}?utm_source=touchline`, 'cta');
    const t0 = performance.now();
    try {
      const res = await fetch(target, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' } });
      await res.arrayBuffer();
      this.latency.add(performance.now() - t0);
      if (res.status >= 200 && res.status < 400) this.answered++;
      else this.failed++;
    } catch {
      this.failed++;
    }
  }
}
