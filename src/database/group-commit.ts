/**
 * Group commit: requests that arrive while earlier writes are in flight are written together,
 * in ONE statement (one round trip, one commit, one WAL flush), and each request is answered
 * with its own result once that statement has committed. There is no timer: when the
 * database keeps up, a request is written at once, alone; when it does not, the requests
 * queue while the statements in flight run and the next statement takes them all (up to
 * `maxItems`). If a combined statement fails, each of its requests is retried alone, so a
 * failure fails only the request that causes it.
 */
export interface GroupCommitOptions {
  /** Statements in flight at once (each on its own connection). */
  maxInFlight: number;
  /** Items (events) per statement at most; a single larger request still goes alone. */
  maxItems: number;
}

interface Pending<I, R> {
  input: I;
  size: number;
  resolve(result: R): void;
  reject(err: unknown): void;
}

export class GroupCommit<I, R> {
  private readonly queue: Pending<I, R>[] = [];
  private inFlight = 0;

  /**
   * `write(inputs)` writes several inputs in one statement and returns one result per input,
   * in order; `size(input)` counts its items.
   */
  constructor(
    private readonly write: (inputs: I[]) => Promise<R[]>,
    private readonly size: (input: I) => number,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ input, size: this.size(input), resolve, reject });
      this.pump();
    });
  }

  /** Requests waiting for a statement (for tests and metrics). */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length) {
      const group: Pending<I, R>[] = [this.queue.shift()!];
      let items = group[0].size;
      while (this.queue.length && items + this.queue[0].size <= this.options.maxItems) {
        items += this.queue[0].size;
        group.push(this.queue.shift()!);
      }
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(group: Pending<I, R>[]): Promise<void> {
    let results: R[];
    try {
      results = await this.write(group.map((p) => p.input));
    } catch (err) {
      if (group.length === 1) return group[0].reject(err);
      // One bad request must not fail the others: each is retried in a statement of its own.
      await Promise.all(group.map((p) => this.write([p.input]).then(([r]) => p.resolve(r), p.reject)));
      return;
    }
    group.forEach((p, i) => p.resolve(results[i]));
  }
}
