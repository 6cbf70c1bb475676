import { GroupCommit } from '../../src/database/group-commit';

/** Single items through a GroupCommit (one statement in flight, as tracking uses it) whose work is released by hand, recording the groups it was given. */
function manual(max: number) {
  const groups: number[][] = [];
  const pending: Array<{ resolve(): void; reject(err: Error): void }> = [];
  const grouped = new GroupCommit<number, string>(
    (items) =>
      new Promise<string[]>((resolve, reject) => {
        groups.push(items);
        pending.push({ resolve: () => resolve(items.map((i) => `done ${i}`)), reject });
      }),
    () => 1,
    { maxInFlight: 1, maxItems: max },
  );
  return { grouped, groups, pending };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit of single items, one statement in flight', () => {
  it('runs a lone item at once, and items arriving meanwhile together in the next group, one group in flight', async () => {
    const { grouped, groups, pending } = manual(100);
    const first = grouped.submit(1);
    expect(groups).toEqual([[1]]);
    const later = [2, 3, 4].map((i) => grouped.submit(i));
    await tick();
    expect(groups).toEqual([[1]]); // nothing else starts while the first group is in flight
    pending[0].resolve();
    expect(await first).toBe('done 1');
    await tick();
    expect(groups).toEqual([[1], [2, 3, 4]]);
    pending[1].resolve();
    expect(await Promise.all(later)).toEqual(['done 2', 'done 3', 'done 4']);
  });

  it('settles an item only with its own group: a failed group rejects its items alone', async () => {
    const { grouped, groups, pending } = manual(100);
    const a = grouped.submit(1);
    const settled: string[] = [];
    const b = grouped.submit(2).then(
      (v) => settled.push(v),
      (e: Error) => settled.push(e.message),
    );
    pending[0].reject(new Error('commit failed'));
    await expect(a).rejects.toThrow('commit failed');
    await tick();
    expect(settled).toEqual([]); // 2 is in the next group, still in flight
    expect(groups).toEqual([[1], [2]]);
    pending[1].resolve();
    await b;
    expect(settled).toEqual(['done 2']);
  });

  it('puts at most `max` items in a group', async () => {
    const { grouped, groups, pending } = manual(2);
    const all = [1, 2, 3, 4, 5].map((i) => grouped.submit(i));
    for (let g = 0; g < 3; g++) {
      await tick();
      pending[g].resolve();
    }
    expect(await Promise.all(all)).toEqual(['done 1', 'done 2', 'done 3', 'done 4', 'done 5']);
    expect(groups).toEqual([[1], [2, 3], [4, 5]]);
  });
});
