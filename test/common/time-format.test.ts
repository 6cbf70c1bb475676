import fc from 'fast-check';
import { isoTime, utcDay } from '../../src/common/clock';

/** utcDay and isoTime remember their last answers: they must still answer exactly what toISOString does, in any order of calls. */
describe('remembered time formatting', () => {
  const instant = fc.oneof(
    // Around day boundaries, and far in the past and future (six-digit years).
    fc.integer({ min: -3, max: 3 }).chain((d) => fc.integer({ min: -2, max: 2 }).map((ms) => Date.UTC(2026, 10, 20 + d) + ms)),
    fc.integer({ min: -8.64e15, max: 8.64e15 }),
  );

  it('equals toISOString (and its first ten characters) for every instant of any sequence', () => {
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 30 }), (times) => {
        for (const t of times) {
          const d = new Date(t);
          expect(isoTime(d)).toBe(d.toISOString());
          expect(utcDay(d)).toBe(d.toISOString().slice(0, 10));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('alternating instants of two days, and the last millisecond of a day', () => {
    const a = new Date('2026-11-20T23:59:59.999Z');
    const b = new Date('2026-11-21T00:00:00.000Z');
    for (let i = 0; i < 3; i++) {
      expect([utcDay(a), utcDay(b), utcDay(new Date(-1))]).toEqual(['2026-11-20', '2026-11-21', '1969-12-31']);
      expect([isoTime(a), isoTime(b)]).toEqual([a.toISOString(), b.toISOString()]);
    }
  });

  it('throws for an invalid Date, as toISOString does, however often it is asked', () => {
    for (let i = 0; i < 2; i++) {
      expect(() => utcDay(new Date(NaN))).toThrow(RangeError);
      expect(() => isoTime(new Date(NaN))).toThrow(RangeError);
    }
  });
});
