import fc from 'fast-check';
import { normalizeMessage } from '../../src/ingestion/normalize';
import { trackSchema } from '../../src/ingestion/segment.schema';
import { parseTrackFast } from '../../src/ingestion/track-fast-path';

/**
 * The hand-written track check must agree with the zod schema: whatever it accepts, zod
 * accepts with the same result; whatever JSON zod accepts, it accepts too (so valid traffic
 * takes the fast path); and normalizeMessage answers the same with or without it, problems
 * and messages included.
 */
describe('track fast path versus the zod schema', () => {
  const limits = { maxMessageBytes: 32 * 1024, maxFutureMs: 24 * 3_600_000 };
  const receivedAt = new Date('2026-11-22T10:00:00Z');
  const json = fc.jsonValue({ maxDepth: 2 });
  const str = (max: number) => fc.oneof(fc.string({ maxLength: max }), fc.string({ minLength: max - 2, maxLength: max + 2 }), fc.constantFrom('', ' ', ' \t x \n', '\u00a0y'));
  // Each field is mostly valid, so that whole messages are valid often enough.
  const mostly = <T, U>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<U>) => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: other });
  const id = mostly(
    fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.integer(), fc.constant(undefined)),
    fc.oneof(str(256), fc.double(), fc.constant(null), fc.boolean(), json),
  );
  const time = mostly(
    fc.oneof(fc.date({ min: new Date('2000-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), fc.constant(undefined)),
    fc.oneof(fc.constantFrom('2026-02-30T00:00:00Z', '2026-11-22', '2026-13-01', 'yesterday', '20261122', '2026-11-22T10:00:00+09:00', '2026-11-22' + 'x'.repeat(60)),
      fc.string({ maxLength: 30 }), fc.constant(null), fc.integer()),
  );
  const record = mostly(fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), json), fc.constant(undefined)), fc.oneof(fc.constant({ __proto__x: 1, groupId: 'g' }), json));
  const message = fc.record(
    {
      type: fc.oneof({ weight: 6, arbitrary: fc.constant('track') }, { weight: 1, arbitrary: fc.constantFrom('identify', 'TRACK', '', undefined) }, { weight: 1, arbitrary: fc.integer() }),
      event: mostly(fc.string({ minLength: 1, maxLength: 20 }), fc.oneof(str(201), id)),
      messageId: mostly(fc.oneof(fc.uuid(), fc.constant(undefined)), fc.oneof(str(256), id)),
      userId: id,
      anonymousId: id,
      timestamp: time,
      originalTimestamp: time,
      sentAt: time,
      context: record,
      integrations: record,
      properties: record,
      extra: json,
    },
    { requiredKeys: [] },
  );
  // What arrives over HTTP: JSON text parsed (undefined values disappear, -0 becomes 0).
  const viaJson = message.map((m) => JSON.parse(JSON.stringify(m)) as Record<string, unknown>);

  it('accepts exactly what zod accepts, with the same parsed fields', () => {
    let fastAccepted = 0;
    fc.assert(
      fc.property(viaJson, (raw) => {
        const fast = parseTrackFast(raw);
        const zod = trackSchema.safeParse(raw);
        if (fast) {
          fastAccepted++;
          expect(zod.success).toBe(true);
          expect(fast).toEqual(zod.data);
        } else if (zod.success) {
          // The one thing zod accepts that the fast path leaves to it by design: a record
          // field (context, integrations, properties) with an own `__proto__` key.
          expect(['context', 'integrations', 'properties'].some((k) => hasOwnProto(raw[k]))).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    expect(fastAccepted).toBeGreaterThan(100); // the generator reaches the valid side too
  });

  it('normalizeMessage gives the same answer, problems and messages included, with or without it', () => {
    fc.assert(
      fc.property(viaJson, fc.constantFrom(undefined, 'track' as const), fc.option(fc.record({ groupId: id }), { nil: undefined }), (raw, expected, context) => {
        const envelope = { context: context as Record<string, unknown> | undefined };
        const withFast = normalizeMessage(raw, expected, 'batch[3]', receivedAt, limits, envelope);
        const zodOnly = normalizeMessage(raw, expected, 'batch[3]', receivedAt, limits, envelope, { zodOnly: true });
        expect(withFast).toEqual(zodOnly);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves objects JSON cannot produce, and own __proto__ keys, to zod', () => {
    const base = { type: 'track', event: 'login', userId: 'u1' };
    expect(parseTrackFast({ ...base })).toEqual({ ...base });
    expect(parseTrackFast(Object.assign(Object.create(null), base))).toBeUndefined();
    expect(parseTrackFast({ ...base, properties: JSON.parse('{"__proto__":{"a":1},"b":2}') })).toBeUndefined();
    expect(parseTrackFast({ ...base, properties: new Date() })).toBeUndefined();
    expect(parseTrackFast({ ...base, userId: Infinity })).toBeUndefined();
    expect(parseTrackFast({ ...base, event: '  ' })).toBeUndefined();
    expect(parseTrackFast({ ...base, event: ' x ' })).toEqual({ ...base, event: 'x' });
  });
});

function hasOwnProto(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, '__proto__');
}
