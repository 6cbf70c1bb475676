import { compareConversion, percent, proportion, wilson } from '../../src/console/stats';

const close = (actual: number | undefined | null, expected: number, tol = 0.0005) => {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(tol);
};

describe('conversion statistics', () => {
  it('matches Wilson intervals published by Newcombe (1998, Table I)', () => {
    // 81/263: 0.2553 to 0.3662; 15/148: 0.0624 to 0.1605; 0/10: 0 to 0.2775
    let ci = wilson(81, 263)!;
    close(ci.low, 0.2553);
    close(ci.high, 0.3662);
    ci = wilson(15, 148)!;
    close(ci.low, 0.0624);
    close(ci.high, 0.1605);
    ci = wilson(0, 10)!;
    close(ci.low, 0);
    close(ci.high, 0.2775);
  });

  it('matches the hybrid score interval for a difference published by Newcombe (1998, Table II, method 10)', () => {
    // 56/70 − 48/80 = 0.2, 95% CI 0.0524 to 0.3339
    const c = compareConversion({ successes: 56, total: 70 }, { successes: 48, total: 80 });
    close(c.difference, 0.2);
    close(c.ci!.low, 0.0524);
    close(c.ci!.high, 0.3339);
    expect(c.significant).toBe(true);
    close(c.lift, 0.2 / 0.6);
    // 9/10 − 3/10 = 0.6, 95% CI 0.1705 to 0.8090
    const d = compareConversion({ successes: 9, total: 10 }, { successes: 3, total: 10 });
    close(d.ci!.low, 0.1705);
    close(d.ci!.high, 0.809);
  });

  it('is not significant when the interval spans zero, and symmetric when arms swap', () => {
    const a = compareConversion({ successes: 12, total: 100 }, { successes: 10, total: 100 });
    expect(a.significant).toBe(false);
    expect(a.ci!.low).toBeLessThan(0);
    expect(a.ci!.high).toBeGreaterThan(0);
    const b = compareConversion({ successes: 10, total: 100 }, { successes: 12, total: 100 });
    close(b.ci!.low, -a.ci!.high, 1e-12);
    close(b.ci!.high, -a.ci!.low, 1e-12);
  });

  it('stays inside [-1, 1] at the extremes and reports empty arms as unknown', () => {
    const e = compareConversion({ successes: 5, total: 5 }, { successes: 0, total: 5 });
    expect(e.ci!.high).toBeLessThanOrEqual(1);
    expect(e.ci!.low).toBeGreaterThan(0);
    const empty = compareConversion({ successes: 3, total: 10 }, { successes: 0, total: 0 });
    expect(empty.difference).toBeNull();
    expect(empty.ci).toBeNull();
    expect(empty.significant).toBe(false);
    expect(proportion(0, 0).rate).toBeNull();
  });

  it('rejects impossible counts', () => {
    expect(() => proportion(5, 3)).toThrow(/0 <= successes <= total/);
    expect(() => proportion(-1, 3)).toThrow(RangeError);
    expect(() => proportion(1.5, 3)).toThrow(RangeError);
  });

  it('formats rates', () => {
    expect(percent(0.1834)).toBe('18.3%');
    expect(percent(null)).toBe('—');
  });
});
