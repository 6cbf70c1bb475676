import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { signToken, verifyToken } from '../../src/tracking/tokens';

const k1 = { id: 'k1', secret: 'old-secret-0123456789abcdef' };
const k2 = { id: 'k2', secret: 'new-secret-0123456789abcdef' };

describe('tracking tokens', () => {
  it('round-trips and verifies with every key of the set (rotation keeps old links working)', () => {
    const old = signToken([k1], { k: 'c', m: '42', r: '7', u: 'https://example.com/a' });
    expect(verifyToken([k2, k1], old, 'c')).toMatchObject({ ok: true, keyId: 'k1', payload: { m: '42', r: '7', u: 'https://example.com/a' } });
    const fresh = signToken([k2, k1], { k: 'o', m: '1', r: '2' });
    expect(fresh.startsWith('k2.')).toBe(true);
  });

  it('the MAC is HMAC-SHA256 over `<keyId>.<payload>` with the secret as UTF-8 (the kept key objects change nothing)', () => {
    for (const key of [k1, k2, { id: 'k3', secret: 'ключ-秘密-0123456789' }, k1]) {
      for (const m of ['1', '42', '9007199254740993']) {
        const [kid, body, mac] = signToken([key], { k: 'c', m, r: '7', u: 'https://example.com/a' }).split('.');
        expect(mac).toBe(createHmac('sha256', key.secret).update(`${kid}.${body}`).digest('base64url'));
        expect(verifyToken([key], `${kid}.${body}.${mac}`).ok).toBe(true);
      }
    }
    // A key rotated in under the same id with another secret signs with the new secret.
    const t = signToken([{ id: 'k1', secret: 'rotated-secret-0123456789' }], { k: 'o', m: '1', r: '2' });
    expect(verifyToken([k1], t)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('refuses a removed key, another purpose, and any altered character', () => {
    const t = signToken([k1], { k: 'u', m: '42', r: '7' });
    expect(verifyToken([k2], t)).toEqual({ ok: false, reason: 'unknown signing key' });
    expect(verifyToken([k1], t, 'c')).toEqual({ ok: false, reason: 'token is for another purpose' });
    fc.assert(
      fc.property(fc.nat(t.length - 1), fc.constantFrom(...'ABCxyz019-_'.split('')), (i, ch) => {
        fc.pre(t[i] !== ch && t[i] !== '.');
        const forged = t.slice(0, i) + ch + t.slice(i + 1);
        return verifyToken([k1], forged).ok === false;
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses another spelling of the same MAC bytes (other unused trailing bits)', () => {
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const t = signToken([k1], { k: 'o', m: '42', r: '7' });
    const [kid, body, mac] = t.split('.');
    // 32 bytes in 43 characters: the last character carries 4 bits of the MAC and 2 unused bits.
    const last = B64.indexOf(mac[mac.length - 1]);
    for (let unused = 1; unused < 4; unused++) {
      const other = mac.slice(0, -1) + B64[(last & ~3) | ((last & 3) ^ unused)];
      expect(Buffer.from(other, 'base64url').equals(Buffer.from(mac, 'base64url'))).toBe(true);
      expect(verifyToken([k1], `${kid}.${body}.${other}`)).toEqual({ ok: false, reason: 'bad signature' });
    }
    expect(verifyToken([k1], t).ok).toBe(true);
  });

  it('never accepts random strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => verifyToken([k1, k2], s).ok === false), { numRuns: 2000 });
  });
});
