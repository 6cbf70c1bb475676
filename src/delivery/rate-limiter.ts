import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { CONFIG } from '../config/config.module';
import type { Config } from '../config/config';
import { RateRepository } from './rate.repository';

/**
 * The global send-rate limit, shared by every dispatcher process through PostgreSQL: a
 * generic cell-rate algorithm (GCRA) on one row. A reservation of n slots moves the row's
 * "theoretical arrival time" n intervals forward in one UPDATE and answers where the block
 * starts, measured on the database's clock; the dispatcher then waits on its own monotonic
 * clock. Slots are spaced exactly 1/rate apart and never handed out twice, so the rate holds
 * however many dispatchers run; slots a dispatcher does not use are simply lost (the
 * limiter can only err on the slow side). Idle time earns no burst credit.
 *
 * A dispatcher asks for a slot only when a connection is free and the message is ready, so
 * a slot is never used late (a late send would crowd the slots of others). Requests that
 * arrive while a reservation is on its way to the database are gathered into the next one:
 * one round trip serves every send that became ready meanwhile.
 */
@Injectable()
export class RateLimiter {
  constructor(
    private readonly repo: RateRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private waiting: Array<() => void> = [];
  private reserving = false;

  get unlimited(): boolean {
    return this.config.delivery.ratePerSecond <= 0;
  }

  /** Resolves at the moment this caller may hand one message to SMTP. */
  acquire(): Promise<void> {
    if (this.unlimited) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (!this.reserving) void this.reserveWaiting();
    });
  }

  private async reserveWaiting(): Promise<void> {
    this.reserving = true;
    try {
      while (this.waiting.length) {
        const batch = this.waiting;
        this.waiting = [];
        const intervalMs = 1000 / this.config.delivery.ratePerSecond;
        let aheadMs: number;
        try {
          aheadMs = await this.repo.advance('smtp', batch.length * intervalMs);
        } catch {
          // The database is unreachable: wait and ask again rather than send unmetered.
          this.waiting.unshift(...batch);
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        // The row now ends `aheadMs` after the database's present; our block is its last n slots.
        const first = performance.now() + aheadMs - batch.length * intervalMs;
        batch.forEach((resolve, i) => void waitUntil(first + i * intervalMs).then(resolve));
      }
    } finally {
      this.reserving = false;
    }
  }
}

/** Waits until a performance.now() moment. */
export function waitUntil(at: number): Promise<void> {
  const ms = at - performance.now();
  if (ms <= 0.5) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, Math.ceil(ms)));
}
