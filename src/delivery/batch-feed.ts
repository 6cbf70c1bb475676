/**
 * The messages of one dispatcher round, handed out a group at a time. When fewer than
 * `lowWater` remain and the last claimed batch was full, the next batch is claimed in the
 * background, so the sends never wait for a claim transaction (claim pipelining). A claim
 * that fails, or answers nothing, ends the round's claiming.
 */
export class BatchFeed<T> {
  private queue: T[];
  private pos = 0;
  private full: boolean;
  private claiming: Promise<void> | null = null;
  private stopped = false;

  constructor(
    first: T[],
    full: boolean,
    private readonly group: number,
    private readonly lowWater: number,
    /** Claims the next batch: null when the round should claim no more (paused, stopping). */
    private readonly claimNext: () => Promise<{ rows: T[]; full: boolean } | null>,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.queue = first;
    this.full = full;
  }

  /** The next group, waiting for a claim in progress if the queue ran dry; null when done. */
  async take(): Promise<T[] | null> {
    this.refill();
    while (this.pos >= this.queue.length && this.claiming) {
      await this.claiming;
      this.refill();
    }
    if (this.pos >= this.queue.length) return null;
    const slice = this.queue.slice(this.pos, this.pos + this.group);
    this.pos += slice.length;
    this.refill();
    return slice;
  }

  /** Stops claiming and answers everything claimed but not handed out (a claim in progress included). */
  async rest(): Promise<T[]> {
    this.stopped = true;
    while (this.claiming) await this.claiming;
    const rest = this.queue.slice(this.pos);
    this.pos = this.queue.length;
    return rest;
  }

  private refill(): void {
    if (this.claiming || this.stopped || !this.full || this.queue.length - this.pos > this.lowWater) return;
    this.claiming = this.claimNext()
      .then(
        (next) => {
          if (!next || !next.rows.length) {
            this.full = false;
            return;
          }
          // Drop what was handed out already, so the queue does not grow with the round.
          this.queue = this.queue.slice(this.pos).concat(next.rows);
          this.pos = 0;
          this.full = next.full;
        },
        (err: Error) => {
          this.full = false;
          this.onError(err);
        },
      )
      .finally(() => (this.claiming = null));
  }
}
