import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { CONFIG } from '../config/config.module';
import type { Config } from '../config/config';
import { RateRepository } from './rate.repository';

/** Send slots reserved by one dispatcher: slot i may be used from `at(i)` (performance.now() ms). */
export interface Reservation {
  count: number;
  at(i: number): number;
  /** How late a slot may still be used (half an interval); a later send must reserve again. */
  toleranceMs: number;
}

/**
 * The global send-rate limit, shared by every dispatcher process through PostgreSQL: a
 * generic cell-rate algorithm (GCRA) on one row. A reservation of n slots moves the row's
 * "theoretical arrival time" n intervals forward in one UPDATE and answers where the block
 * starts, measured on the database's clock; the dispatcher then waits on its own monotonic
 * clock. Slots are spaced exactly 1/rate apart and never handed out twice, so the rate holds
 * however many dispatchers run; slots a dispatcher does not use are simply lost (the
 * limiter can only err on the slow side). A send that would start more than half an
 * interval after its slot reserves a new one instead (late sends would crowd the slots of
 * others). Idle time earns no burst credit.
 */
@Injectable()
export class RateLimiter {
  constructor(
    private readonly repo: RateRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  get unlimited(): boolean {
    return this.config.delivery.ratePerSecond <= 0;
  }

  async reserve(n: number): Promise<Reservation> {
    const now = performance.now();
    if (this.unlimited || n <= 0) return { count: n, at: () => now, toleranceMs: Infinity };
    const intervalMs = 1000 / this.config.delivery.ratePerSecond;
    const aheadMs = await this.repo.advance('smtp', n * intervalMs);
    const base = performance.now();
    // The row now ends `aheadMs` from the database's present; our block is its last n slots.
    const first = base + aheadMs - n * intervalMs;
    return { count: n, at: (i) => first + i * intervalMs, toleranceMs: intervalMs / 2 };
  }
}

/** Waits until a performance.now() moment. */
export function waitUntil(at: number): Promise<void> {
  const ms = at - performance.now();
  if (ms <= 0.5) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, Math.ceil(ms)));
}
