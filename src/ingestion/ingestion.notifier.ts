import { Injectable } from '@nestjs/common';

export interface IngestedSignal {
  count: number;
  receivedAt: Date;
}

/**
 * Tells in-process listeners (the engine's event triggers) that committed events arrived,
 * so they run at once instead of at the next poll. Listeners read the events table itself,
 * which is what makes this safe across processes and restarts: a missed nudge only delays.
 */
@Injectable()
export class IngestionNotifier {
  private readonly listeners = new Set<(s: IngestedSignal) => void>();

  subscribe(listener: (s: IngestedSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(signal: IngestedSignal): void {
    for (const l of this.listeners) {
      try {
        l(signal);
      } catch {
        // a listener's failure must never fail an ingestion that has committed
      }
    }
  }
}
