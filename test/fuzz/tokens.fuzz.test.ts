import fc from 'fast-check';
import type { TrackingKey } from '../../src/config/secrets';
import { signToken, TokenPayload, verifyToken } from '../../src/tracking/tokens';

/**
 * Tracking tokens under generated input (extends test/tracking/tokens.test.ts): tampered
 * bytes anywhere (in the decoded payload or MAC, not only single base64 characters), other
 * and retired key versions, truncation, appended data, unicode and look-alike characters.
 * Only the exact token the signer produced verifies, with exactly the payload signed.
 */
const k1 = { id: 'k1', secret: 'old-secret-0123456789abcdef' };
const k2 = { id: 'k2', secret: 'new-secret-0123456789abcdef' };
const k3 = { id: 'k3', secret: 'other-secret-0123456789abcd' };

const payload: fc.Arbitrary<TokenPayload> = fc.record(
  {
    k: fc.constantFrom('o', 'c', 'u', 'p', 's'),
    m: fc.oneof(fc.nat().map(String), fc.string({ maxLength: 10 })),
    r: fc.oneof(fc.nat().map(String), fc.string({ unit: 'grapheme', maxLength: 6 })),
    u: fc.oneof(fc.webUrl(), fc.string({ unit: 'grapheme', maxLength: 20 })),
    l: fc.string({ unit: 'grapheme', maxLength: 12 }),
  },
  { requiredKeys: ['k', 'm', 'r'] },
) as fc.Arbitrary<TokenPayload>;

const b64 = (b: Buffer) => b.toString('base64url');

// Thousands of cases per property: generous for a loaded 2-core CI machine.
jest.setTimeout(300_000);

describe('tracking tokens under generated tampering', () => {
  it('round trip: the exact token verifies with exactly its payload, under every key of the set', () => {
    fc.assert(
      fc.property(payload, fc.constantFrom<TrackingKey[][]>([k1], [k2, k1]), (p, keys) => {
        const t = signToken(keys, p);
        const v = verifyToken([k3, k2, k1], t, p.k);
        return v.ok && JSON.stringify(v.payload) === JSON.stringify(p) && v.keyId === keys[0].id;
      }),
      { numRuns: 3000 },
    );
  });

  it('flipping any bit of the decoded payload or MAC (re-encoded canonically) is refused', () => {
    fc.assert(
      fc.property(payload, fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 7 }), (p, inMac, at, bit) => {
        const [kid, body, mac] = signToken([k2], p).split('.');
        const bytes = Buffer.from(inMac ? mac : body, 'base64url');
        bytes[at % bytes.length] ^= 1 << bit;
        const forged = inMac ? `${kid}.${body}.${b64(bytes)}` : `${kid}.${b64(bytes)}.${mac}`;
        return verifyToken([k2, k1], forged).ok === false;
      }),
      { numRuns: 4000 },
    );
  });

  it('a payload re-signed under another key id, a retired key or a key id the set does not hold is refused', () => {
    fc.assert(
      fc.property(payload, fc.constantFrom('k1', 'k2', 'k3', 'K2', 'k2 ', '', 'k2\u0000', 'ｋ2'), (p, kid) => {
        const [, body, mac] = signToken([k2], p).split('.');
        const swapped = `${kid}.${body}.${mac}`;
        const retired = signToken([k3], p);
        return (kid === 'k2' || verifyToken([k2, k1], swapped).ok === false) && verifyToken([k2, k1], retired).ok === false;
      }),
      { numRuns: 2000 },
    );
  });

  it('truncated, extended, re-padded or unicode-altered tokens are refused', () => {
    fc.assert(
      fc.property(
        payload,
        fc.oneof(
          fc.nat().map((n) => (t: string) => t.slice(0, n % t.length)),
          fc.string({ maxLength: 8 }).filter((s) => s.length > 0).map((s) => (t: string) => t + s),
          fc.constantFrom(
            (t: string) => t + '=',
            (t: string) => t + '.',
            (t: string) => t.replace(/\./g, '%2E'),
            (t: string) => t.toUpperCase(),
            (t: string) => t.normalize('NFKC').replace(/A/g, 'Α'), // Greek capital alpha
            (t: string) => t.replace(/-/g, '+').replace(/_/g, '/'), // standard base64 alphabet
            (t: string) => ` ${t}`,
            (t: string) => `${t}\u200b`,
          ),
          fc.tuple(fc.nat(), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 2 })).map(([i, s]) => (t: string) => t.slice(0, i % t.length) + s + t.slice(i % t.length)),
        ),
        (p, alter) => {
          const t = signToken([k2], p);
          const forged = alter(t);
          return forged === t || verifyToken([k2, k1], forged).ok === false;
        },
      ),
      { numRuns: 4000 },
    );
  });

  it('a token signed for one purpose never verifies for another', () => {
    fc.assert(
      fc.property(payload, fc.constantFrom<TokenPayload['k']>('o', 'c', 'u', 'p', 's'), (p, other) => {
        fc.pre(other !== p.k);
        return verifyToken([k2], signToken([k2], p), other).ok === false;
      }),
      { numRuns: 2000 },
    );
  });
});
