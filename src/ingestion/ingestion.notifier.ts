import { Injectable, OnModuleDestroy } from '@nestjs/common';

export interface IngestedSignal {
  count: number;
  receivedAt: Date;
}

/**
 * Tells in-process listeners (the engine's event triggers) that committed events arrived,
 * so they run at once instead of at the next poll. Listeners read the events table itself,
 * which is what makes this safe across processes and restarts: a missed nudge only delays.
 *
 * Under a stream of commits the nudges are coalesced: the first is delivered at once, those
 * arriving in the next `cooldownMs` become one nudge at its end (counts summed), so that
 * listeners make a pass per cooldown rather than one per commit, and none is left out.
 */
@Injectable()
export class IngestionNotifier implements OnModuleDestroy {
  cooldownMs = 100;
  private readonly listeners = new Set<(s: IngestedSignal) => void>();
  private cooling?: NodeJS.Timeout;
  private pending?: IngestedSignal;

  subscribe(listener: (s: IngestedSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(signal: IngestedSignal): void {
    if (this.cooling) {
      this.pending = { count: (this.pending?.count ?? 0) + signal.count, receivedAt: signal.receivedAt };
      return;
    }
    this.deliver(signal);
  }

  onModuleDestroy(): void {
    clearTimeout(this.cooling);
    this.cooling = undefined;
  }

  private deliver(signal: IngestedSignal): void {
    this.cooling = setTimeout(() => {
      this.cooling = undefined;
      const next = this.pending;
      this.pending = undefined;
      if (next) this.deliver(next);
    }, this.cooldownMs);
    this.cooling.unref();
    for (const l of this.listeners) {
      try {
        l(signal);
      } catch {
        // a listener's failure must never fail an ingestion that has committed
      }
    }
  }
}
