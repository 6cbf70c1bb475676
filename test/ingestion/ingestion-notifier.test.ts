import { IngestedSignal, IngestionNotifier } from '../../src/ingestion/ingestion.notifier';

/** Nudges to the engine: the first at once, a stream of them coalesced, none left out. */
describe('ingestion notifier', () => {
  const at = new Date('2026-11-22T10:00:00Z');
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('delivers the first nudge at once and coalesces those within the cooldown into one, counts summed', async () => {
    const n = new IngestionNotifier();
    n.cooldownMs = 50;
    const seen: IngestedSignal[] = [];
    n.subscribe((s) => seen.push(s));
    n.emit({ count: 100, receivedAt: at });
    expect(seen).toEqual([{ count: 100, receivedAt: at }]);
    const later = new Date(at.getTime() + 10);
    n.emit({ count: 100, receivedAt: at });
    n.emit({ count: 50, receivedAt: later });
    expect(seen).toHaveLength(1);
    await settle(120);
    expect(seen).toEqual([
      { count: 100, receivedAt: at },
      { count: 150, receivedAt: later },
    ]);
    // Quiet again: the next nudge is immediate.
    await settle(80);
    n.emit({ count: 1, receivedAt: at });
    expect(seen).toHaveLength(3);
    n.onModuleDestroy();
  });

  it('a failing listener does not stop the others', () => {
    const n = new IngestionNotifier();
    const seen: number[] = [];
    n.subscribe(() => {
      throw new Error('listener failed');
    });
    n.subscribe((s) => seen.push(s.count));
    expect(() => n.emit({ count: 3, receivedAt: at })).not.toThrow();
    expect(seen).toEqual([3]);
    n.onModuleDestroy();
  });
});
