import { normalizeMessage } from '../../src/ingestion/normalize';

const limits = { maxMessageBytes: 32 * 1024, maxFutureMs: 86_400_000 };
const now = new Date('2026-11-20T00:00:00Z');

describe('normalizeMessage', () => {
  it('derives a stable messageId when the source sends none, so a retry is recognised', () => {
    const a = normalizeMessage({ type: 'track', userId: 'u', event: 'login', timestamp: '2026-11-19T00:00:00Z' }, undefined, '', now, limits);
    const b = normalizeMessage({ event: 'login', timestamp: '2026-11-19T00:00:00Z', userId: 'u', type: 'track' }, undefined, '', now, limits);
    expect(a.ok && b.ok && a.message.messageId === b.message.messageId).toBe(true);
  });

  it('names the endpoint type mismatch', () => {
    const n = normalizeMessage({ type: 'group', userId: 'u', event: 'x' }, 'track', '', now, limits);
    expect(n).toEqual({ ok: false, problems: [{ path: 'type', message: 'this endpoint takes "track" messages (got "group")' }] });
  });

  it('accepts numeric ids as Segment does', () => {
    const n = normalizeMessage({ type: 'group', userId: 42, groupId: 7 }, undefined, '', now, limits);
    expect(n.ok && n.message.userId === '42' && n.message.groupId === '7').toBe(true);
  });

  it('rejects bad traits with their path', () => {
    const n = normalizeMessage({ type: 'identify', userId: 'u', traits: { email: 'nope', timezone: 'Mars/Base' } }, undefined, 'batch[2]', now, limits);
    expect(n).toEqual({
      ok: false,
      problems: [
        { path: 'batch[2].traits.email', message: '"nope" is not an email address' },
        { path: 'batch[2].traits.timezone', message: 'unknown IANA time zone "Mars/Base"' },
      ],
    });
  });
});
