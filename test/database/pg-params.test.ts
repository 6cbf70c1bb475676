import fc from 'fast-check';
import { Client } from 'pg';
import { arrayLiteral, fastParams } from '../../src/database/pg-params';

// The driver's own serialisation of a parameter (what it sends when given the array itself); the module has no type declarations.
const { prepareValue } = require('pg/lib/utils') as { prepareValue(value: unknown): unknown };

const SPECIALS = ['"', '\\', ',', '{', '}', ' ', 'a', 'NULL', 'é', '日本', '😀', '\u0000x', '\n', "'"];
const scalar = fc.oneof(
  fc.string({ unit: fc.constantFrom(...SPECIALS) }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);

describe('array parameters serialised as the pg driver does', () => {
  it('gives the driver`s literal byte for byte, for any array of strings, numbers, booleans, bigints and nulls', () => {
    fc.assert(
      fc.property(fc.array(scalar, { maxLength: 40 }), (values) => {
        expect(arrayLiteral(values)).toBe(prepareValue(values));
      }),
      { numRuns: 3000 },
    );
  });

  it('holds for the cases by name: empty, nulls, quotes, backslashes, unicode, ids, numbers', () => {
    const cases: unknown[][] = [
      [],
      [null],
      [undefined, null, 'x'],
      ['a"b', 'c\\d', '\\"', '"\\'],
      ['日本語', '😀', 'é', ''],
      ['1', '22', '333'],
      [1, -0, 2.5, NaN, Infinity, 10n ** 20n, true, false],
      ['user1@example.com', null, 'e1:t0:smail:c1'],
      // A hole reads as undefined (NULL), as the driver does.
      ['a', , 'b'],
    ];
    for (const c of cases) expect(arrayLiteral(c)).toBe(prepareValue(c));
  });

  it('leaves to the driver what it does not print as is (Dates, objects, buffers, nested arrays)', () => {
    for (const c of [[new Date(0)], ['a', { x: 1 }], [Buffer.from('x')], [['a']], [new String('s')]]) expect(arrayLiteral(c)).toBeUndefined();
  });

  it('replaces only the arrays it can serialise, without touching the caller`s list', () => {
    const dates = [new Date(0)];
    const params = [['1', '2'], 'text', 3, null, dates, { a: 1 }];
    const out = fastParams(params)!;
    expect(out).not.toBe(params);
    expect(out).toEqual(['{"1","2"}', 'text', 3, null, dates, { a: 1 }]);
    expect(params[0]).toEqual(['1', '2']);
    const plain = ['x', 1, null];
    expect(fastParams(plain)).toBe(plain);
    expect(fastParams(undefined)).toBeUndefined();
  });

  it('reaches PostgreSQL as the same arrays (text, bigint, int, boolean)', async () => {
    const c = new Client({ connectionString: process.env.TOUCHLINE_TEST_PG });
    await c.connect();
    try {
      const arrays: [unknown[], string][] = [
        [['a"b', 'c\\d', null, '日本', '😀', '', 'NULL', '{x,y}'], 'text[]'],
        [['1', '9223372036854775807', null], 'bigint[]'],
        [[1, -2, null, 3], 'int[]'],
        [[true, false, null], 'boolean[]'],
        [[], 'text[]'],
      ];
      for (const [values, type] of arrays) {
        const { rows } = await c.query(`SELECT $1::${type} IS NOT DISTINCT FROM $2::${type} AS same, $1::${type}::text AS a`, [arrayLiteral(values), values]);
        expect(rows[0].same).toBe(true);
      }
    } finally {
      await c.end();
    }
  });
});
