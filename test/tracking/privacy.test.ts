import { hashIp, IpHasher } from '../../src/tracking/privacy';

describe('client address hashing', () => {
  it('IpHasher gives exactly hashIp’s keyed hash, remembered or not, and never the address', () => {
    const h = new IpHasher('ip-key-0123456789');
    const addresses = ['198.51.100.7', '::ffff:198.51.100.7', '2001:DB8::1', '2001:db8::1', '17.1.2.3'];
    for (let round = 0; round < 2; round++) {
      for (const ip of addresses) {
        expect(h.hash(ip)).toBe(hashIp('ip-key-0123456789', ip));
        expect(h.hash(ip)).not.toContain(ip.replace(/^::ffff:/, ''));
      }
    }
    expect(h.hash('::ffff:198.51.100.7')).toBe(h.hash('198.51.100.7'));
    expect(new IpHasher('another-key-012345').hash('198.51.100.7')).not.toBe(h.hash('198.51.100.7'));
    expect(h.hash(undefined)).toBeNull();
    expect(h.hash('')).toBeNull();
  });

  it('remembers a bounded number of addresses', () => {
    const h = new IpHasher('ip-key-0123456789');
    for (let i = 0; i < 25_000; i++) expect(h.hash(`10.0.${i >> 8}.${i & 255}`)).toBe(hashIp('ip-key-0123456789', `10.0.${i >> 8}.${i & 255}`));
    expect((h as unknown as { recent: Map<string, string> }).recent.size).toBeLessThanOrEqual(10_000);
  });
});
