/**
 * Runs work for single items in groups: the first item starts a group at once, and items
 * that arrive while a group is in flight wait and go together into the next one (at most
 * `max` per group). One group is in flight at a time, so under load a group carries
 * whatever arrived during the previous one (group commit: one statement, one commit, for
 * many callers), and when idle a lone item waits for nothing. Each item's promise settles
 * with its own group's outcome: resolved only after its group's work succeeded.
 */
export class Grouped<I, O> {
  private readonly waiting: Array<{ item: I; resolve: (out: O) => void; reject: (err: unknown) => void }> = [];
  private inFlight = false;

  /** `run` returns one output per item, in order. */
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly max: number,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.inFlight) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight = true;
    try {
      while (this.waiting.length) {
        const group = this.waiting.splice(0, this.max);
        try {
          const out = await this.run(group.map((g) => g.item));
          for (let i = 0; i < group.length; i++) group[i].resolve(out[i]);
        } catch (err) {
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.inFlight = false;
    }
  }
}
