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
 * clock. Slots are never handed out twice, however many dispatchers run; slots a dispatcher
 * does not use are simply lost (the limiter can only err on the slow side). Idle time earns
 * no burst credit.
 *
 * A slot may be used from its moment until SLOT_TOLERANCE_MS after it (a send waits for its
 * slot and for a free connection); one found later is dropped and a fresh slot taken. To keep
 * "no one-second window holds more than rate (+1) hand-overs" exact despite that lateness,
 * slots are spaced (1 s + tolerance) / rate apart: the hand-overs of any second use slots of
 * a (1 s + tolerance) span, which holds at most rate (+1) of them. The price is that a
 * rate-bound sender runs at rate / 1.05; the gain is that slots for a whole group of sends
 * are reserved while the previous group is sending, so no send waits for a database round trip.
 *
 * Requests that arrive while a reservation is on its way to the database are gathered into
 * the next one: one round trip serves every request made meanwhile.
 */
export const SLOT_TOLERANCE_MS = 50;

/** A reserved moment (performance.now() clock) at which one message may be handed to SMTP. */
export interface Slot {
  at: number;
}

@Injectable()
export class RateLimiter {
  constructor(
    private readonly repo: RateRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private waiting: Array<{ n: number; resolve: (slots: Slot[]) => void }> = [];
  private reserving = false;

  get unlimited(): boolean {
    return this.config.delivery.ratePerSecond <= 0;
  }

  /** Spacing of slots (see the class comment). */
  private get intervalMs(): number {
    return (1000 + SLOT_TOLERANCE_MS) / this.config.delivery.ratePerSecond;
  }

  /** Reserves n slots ahead of use (a group of sends about to go out); none when unlimited. */
  reserve(n: number): Promise<Slot[]> {
    if (this.unlimited || n <= 0) return Promise.resolve([]);
    return new Promise<Slot[]>((resolve) => {
      this.waiting.push({ n, resolve });
      if (!this.reserving) void this.reserveWaiting();
    });
  }

  /**
   * Resolves at the moment this caller may hand one message to SMTP: at `slot` if it is still
   * usable (waiting for it when it is ahead), else at a fresh slot.
   */
  acquire(slot?: Slot): Promise<void> {
    if (this.unlimited) return Promise.resolve();
    // The usual case, without the loop's promises: the reserved slot is still usable.
    if (slot && performance.now() <= slot.at + SLOT_TOLERANCE_MS) return waitUntil(slot.at);
    return this.acquireFresh();
  }

  /** A fresh slot (none was reserved, or it has passed), waited for. */
  private async acquireFresh(): Promise<void> {
    for (;;) {
      const [s] = await this.reserve(1);
      if (performance.now() <= s.at + SLOT_TOLERANCE_MS) return waitUntil(s.at);
      // Too late for it (this process stalled): lost, like any unused slot.
    }
  }

  private async reserveWaiting(): Promise<void> {
    this.reserving = true;
    try {
      while (this.waiting.length) {
        const batch = this.waiting;
        this.waiting = [];
        const total = batch.reduce((sum, w) => sum + w.n, 0);
        const intervalMs = this.intervalMs;
        let aheadMs: number;
        try {
          aheadMs = await this.repo.advance('smtp', total * intervalMs);
        } catch {
          // The database is unreachable: wait and ask again rather than send unmetered.
          this.waiting.unshift(...batch);
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        // The row now ends `aheadMs` after the database's present; our block is its last `total` slots.
        let at = performance.now() + aheadMs - total * intervalMs;
        for (const w of batch) {
          const slots: Slot[] = [];
          for (let i = 0; i < w.n; i++, at += intervalMs) slots.push({ at });
          w.resolve(slots);
        }
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
