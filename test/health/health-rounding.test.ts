import { roundTo } from '../../src/health/health-model';
import { roundedNumeric, roundedText } from '../../src/health/health-sql';
import { createTestDatabase, TestDatabase } from '../support/db';

// The components' JSON rounds in floating point where that cannot differ from
// round(x::numeric, n) and leaves the rest to numeric: proved here against numeric itself on 194,536
// values at, next to and far from every kind of half, and against the model's roundTo.
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const VALUES = `
  SELECT random() * 100 AS x FROM generate_series(1, 40000)
  UNION ALL SELECT random() * 2 FROM generate_series(1, 40000)
  UNION ALL SELECT (g / 10000.0)::float8 + 0.00005 FROM generate_series(0, 30000) g      -- halves of the 5th decimal
  UNION ALL SELECT (g / 100.0)::float8 + 0.005 FROM generate_series(0, 20000) g          -- halves of the 3rd decimal
  UNION ALL SELECT (g / 1000.0)::float8 / 3 FROM generate_series(0, 30000) g
  UNION ALL SELECT a::float8 / b FROM generate_series(0, 120) a, generate_series(1, 120) b -- ratios, as the measures give
  UNION ALL SELECT 100 + (random() - 0.9) * 150.00000000000003 FROM generate_series(1, 20000)
  UNION ALL SELECT unnest(ARRAY[0, 1.005, 2.675, 0.125, 1e-7, 9999.99995, 9999.5, 10000.5, 123456.785, -2.5, -0.125, 1e15, 1e300]::float8[])`;

describe('rounding of the components and the score', () => {
  it('gives round(x::numeric, n) exactly, value and scale, for 2 and 4 digits', async () => {
    const [r] = await db.query(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE (${roundedNumeric('x', 2)})::text <> round(x::numeric, 2)::text)::int AS bad2,
              count(*) FILTER (WHERE (${roundedNumeric('x', 4)})::text <> round(x::numeric, 4)::text)::int AS bad4,
              count(*) FILTER (WHERE ${roundedText('x', 2)} <> round(x::numeric, 2)::text)::int AS badtext2,
              count(*) FILTER (WHERE ${roundedText('x', 4)} <> round(x::numeric, 4)::text)::int AS badtext4
         FROM (${VALUES}) v`,
    );
    expect(r.n).toBe(194_536);
    expect(r).toEqual({ n: r.n, bad2: 0, bad4: 0, badtext2: 0, badtext4: 0 });
  });

  it('agrees with the model’s roundTo on halves where rounding the double itself would not', async () => {
    for (const [x, digits] of [[2.675, 2], [1.005, 2], [0.00005, 4], [58.51488095238095, 2], [7.6875, 2]] as const) {
      const [r] = await db.query<{ v: string }>(`SELECT (${roundedNumeric('$1::float8', digits)})::text AS v`, [x]);
      expect(Number(r.v)).toBe(roundTo(x, digits));
    }
  });
});
