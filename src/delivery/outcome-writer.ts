import { Logger } from '@nestjs/common';
import type { Clock } from '../common/clock';
import type { DispatchRepository, HardBounce, OutcomeRow } from './dispatch.repository';

/**
 * Gathers send outcomes and writes them at the dispatcher's group barriers: the outcomes
 * gathered since the last barrier go in the same statement (and transaction) that marks the
 * next group started, so a group costs one database round trip on the sends' path, not two.
 * A message accepted by SMTP therefore stays unrecorded until the barrier after its group
 * completes; that is the crash window of the at-most-once guarantee (README: at most the
 * group on the wire and the one before or after it).
 */
export class OutcomeWriter {
  private readonly log = new Logger('Delivery');
  private buffer: OutcomeRow[] = [];
  private bounces: HardBounce[] = [];
  /** A write retrying in the background after a barrier's statement failed. */
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
  }

  /**
   * The barrier: writes everything gathered so far and marks `ids` started (lease renewed to
   * `leaseUntil`) in one statement; answers the ids still held. If the statement fails the
   * outcomes are retried in the background (as by `flush`) and the error is thrown: the group
   * was not marked and must not be sent.
   */
  async recordAndMark(ids: string[], leaseUntil: Date): Promise<Set<string>> {
    await this.settle();
    const { outcomes, bounces } = this.take();
    try {
      const r = await this.repo.recordAndMark(this.clock.now(), this.worker, outcomes, bounces, { ids, leaseUntil });
      this.recorded += r.recorded;
      return r.held;
    } catch (err) {
      this.buffer.unshift(...outcomes);
      this.bounces.unshift(...bounces);
      if (this.buffer.length) this.running = this.drain().finally(() => (this.running = null));
      throw err;
    }
  }

  /** Resolves when everything pushed so far is written (or given up after the lease). */
  async flush(): Promise<void> {
    await this.settle();
    if (!this.buffer.length) return;
    this.running = this.drain().finally(() => (this.running = null));
    await this.settle();
  }

  private async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  private take(): { outcomes: OutcomeRow[]; bounces: HardBounce[] } {
    const taken = { outcomes: this.buffer, bounces: this.bounces };
    this.buffer = [];
    this.bounces = [];
    return taken;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      const { outcomes, bounces } = this.take();
      // Accepted messages must be recorded or they are sent again after the lease: keep trying
      // through a database restart for as long as the lease lasts (every write is fenced by
      // `leased_by = me AND status = 'sending'`, so a late or repeated write changes nothing).
      for (let attempt = 1, waited = 0; ; attempt++) {
        try {
          this.recorded += (await this.repo.recordAndMark(this.clock.now(), this.worker, outcomes, bounces, null)).recorded;
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

/** An outcome with nothing but its id and event set. */
export function blank(id: string, event: OutcomeRow['event']): OutcomeRow {
  return { id, event, reason: null, error: null, smtpResponse: null, next: null, templateVersion: null, subject: null };
}

/** A message given back to the queue untouched (attempt not counted). */
export function released(id: string, reason: string): OutcomeRow {
  return { ...blank(id, 'released'), reason };
}
