import { Logger } from '@nestjs/common';
import type { Clock } from '../common/clock';
import type { DispatchRepository, OutcomeRow } from './dispatch.repository';

type HardBounce = { id: string; response: string; code?: number; status?: string };

/**
 * Records send outcomes as soon as they arrive, coalescing whatever arrived meanwhile into
 * one statement: while one write is in flight the next outcomes gather, so an accepted
 * message waits at most about one database round trip before it is marked sent. That wait
 * is the whole "accepted but not yet recorded" window of the at-most-once guarantee.
 */
export class OutcomeWriter {
  private readonly log = new Logger('Delivery');
  private buffer: OutcomeRow[] = [];
  private bounces: HardBounce[] = [];
  private running: Promise<void> | null = null;
  recorded = 0;

  constructor(
    private readonly repo: DispatchRepository,
    private readonly clock: Clock,
    private readonly worker: string,
    /** How long to keep retrying a failed write (the lease: after it, recovery owns the rows). */
    private readonly retryForMs: number,
  ) {}

  push(outcome: OutcomeRow, bounce?: HardBounce): void {
    this.buffer.push(outcome);
    if (bounce) this.bounces.push(bounce);
    if (!this.running) this.running = this.drain().finally(() => (this.running = null));
  }

  /** Resolves when everything pushed so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      const outcomes = this.buffer;
      const bounces = this.bounces;
      this.buffer = [];
      this.bounces = [];
      // Accepted messages must be recorded or they are sent again after the lease: keep trying
      // through a database restart for as long as the lease lasts (every write is fenced by
      // `leased_by = me AND status = 'sending'`, so a late or repeated write changes nothing).
      for (let attempt = 1, waited = 0; ; attempt++) {
        try {
          this.recorded += await this.repo.recordOutcomes(this.clock.now(), this.worker, outcomes, bounces);
          break;
        } catch (err) {
          const wait = Math.min(100 * 2 ** (attempt - 1), 2000);
          if (waited + wait > this.retryForMs) {
            // The rows stay in `sending` and lease recovery deals with them (README, guarantees).
            this.log.error(`could not record ${outcomes.length} send outcomes after ${attempt} attempts: ${(err as Error).message}`);
            break;
          }
          if (attempt === 1) this.log.warn(`recording ${outcomes.length} send outcomes failed (${(err as Error).message}); retrying`);
          await new Promise((r) => setTimeout(r, wait));
          waited += wait;
        }
      }
    }
  }
}
