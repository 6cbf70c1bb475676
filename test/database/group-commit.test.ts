import { GroupCommit } from '../../src/database/group-commit';

/**
 * The group-commit queue on its own, with a write function we control: which requests share
 * a statement, that each gets its own result, and that a failed statement fails only the
 * request that causes it. (The API test drives it against PostgreSQL.)
 */
describe('group commit', () => {
  /** A write we release by hand; it answers each input with its own text upper-cased. */
  function harness(options = { maxInFlight: 1, maxItems: 100 }, poisoned = new Set<string>()) {
    const statements: string[][] = [];
    const waiting: (() => void)[] = [];
    const gc = new GroupCommit<string[], string>(
      async (inputs) => {
        statements.push(inputs.map((i) => i.join('+')));
        await new Promise<void>((r) => waiting.push(r));
        if (inputs.some((i) => i.some((x) => poisoned.has(x)))) throw new Error(`statement failed on ${inputs.map((i) => i.join('+')).join(', ')}`);
        return inputs.map((i) => i.join('+').toUpperCase());
      },
      (input) => input.length,
      options,
    );
    const releaseAll = async () => {
      // Let queued statements start, release them, repeat until nothing is pending.
      for (let round = 0; round < 20; round++) {
        await new Promise((r) => setImmediate(r));
        waiting.splice(0).forEach((r) => r());
      }
    };
    return { gc, statements, releaseAll };
  }

  it('writes a request at once when nothing is in flight, and groups those that arrive meanwhile', async () => {
    const { gc, statements, releaseAll } = harness();
    const a = gc.submit(['a']);
    expect(statements).toEqual([['a']]); // no timer, no waiting for company
    const rest = [gc.submit(['b']), gc.submit(['c', 'd']), gc.submit(['e'])];
    expect(gc.waiting).toBe(3);
    await releaseAll();
    expect(await a).toBe('A');
    expect(await Promise.all(rest)).toEqual(['B', 'C+D', 'E']);
    expect(statements).toEqual([['a'], ['b', 'c+d', 'e']]);
  });

  it('keeps statements within maxItems and runs up to maxInFlight of them at once', async () => {
    const { gc, statements, releaseAll } = harness({ maxInFlight: 2, maxItems: 3 });
    const all = [['a'], ['b'], ['c', 'd'], ['e'], ['f', 'g', 'h', 'i'], ['j']].map((x) => gc.submit(x));
    expect(statements).toEqual([['a'], ['b']]);
    await releaseAll();
    expect(await Promise.all(all)).toEqual(['A', 'B', 'C+D', 'E', 'F+G+H+I', 'J']);
    // A request larger than maxItems still goes, alone.
    expect(statements).toEqual([['a'], ['b'], ['c+d', 'e'], ['f+g+h+i'], ['j']]);
  });

  it('a failed statement fails only the request that causes it: the others are retried alone and answered', async () => {
    const { gc, statements, releaseAll } = harness({ maxInFlight: 1, maxItems: 100 }, new Set(['bad']));
    const first = gc.submit(['a']);
    const group = [gc.submit(['b']), gc.submit(['x', 'bad']), gc.submit(['c'])];
    const settled = Promise.allSettled(group);
    await releaseAll();
    expect(await first).toBe('A');
    const [b, bad, c] = await settled;
    expect(b).toEqual({ status: 'fulfilled', value: 'B' });
    expect(c).toEqual({ status: 'fulfilled', value: 'C' });
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason.message).toBe('statement failed on x+bad');
    expect(statements).toEqual([['a'], ['b', 'x+bad', 'c'], ['b'], ['x+bad'], ['c']]);
    // The queue keeps working afterwards.
    const after = gc.submit(['d']);
    await releaseAll();
    expect(await after).toBe('D');
  });
});
