import { startTestApp, TestApp } from '../support/app';

/**
 * Track requests are written by a plain statement that does not look messageIds up first: a
 * messageId already stored, or repeated within the statement, makes it fail on the primary
 * key, and the group runs again through the deduplicating statement. The answers and the
 * rollups must be exactly those of a single deduplicating write.
 */
describe('ingestion: duplicates found by the plain statement', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-11-20T03:00:00Z' });
  });
  afterAll(() => t.close());

  const post = (path: string, body: unknown) => t.request('POST', path, { body, key: 'ingest' });
  const track = (messageId: string, event: string, userId = 'u-dup') => ({ type: 'track', userId, event, messageId, timestamp: '2026-11-19T10:00:00Z' });
  const rolled = async (event: string) => (await t.db.query(`SELECT coalesce(sum(count), 0)::int AS n FROM event_rollups WHERE event = $1`, [event]))[0].n;

  it('a messageId repeated in one batch is stored once, from its first occurrence, and answered as one duplicate', async () => {
    const res = await post('/v1/batch', { batch: [track('rep-1', 'rep_first'), track('rep-2', 'rep_first'), track('rep-1', 'rep_second')] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, accepted: 2, duplicates: 1, rejected: [] });
    expect(await t.db.query(`SELECT message_id, name FROM events WHERE message_id LIKE 'rep-%' ORDER BY 1`)).toEqual([
      { message_id: 'rep-1', name: 'rep_first' },
      { message_id: 'rep-2', name: 'rep_first' },
    ]);
    expect(await rolled('rep_first')).toBe(2);
    expect(await rolled('rep_second')).toBe(0);
  });

  it('a batch mixing stored and new messageIds keeps the new ones, counts the stored ones as duplicates, and rolls up only the new', async () => {
    expect((await post('/v1/batch', { batch: [track('mix-1', 'mixed'), track('mix-2', 'mixed')] })).body).toMatchObject({ accepted: 2, duplicates: 0 });
    const res = await post('/v1/batch', { batch: [track('mix-3', 'mixed'), track('mix-2', 'mixed'), track('mix-4', 'mixed', 'u-dup-new')] });
    expect(res.body).toEqual({ success: true, accepted: 2, duplicates: 1, rejected: [] });
    expect(await rolled('mixed')).toBe(4);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM events WHERE message_id LIKE 'mix-%'`);
    expect(n).toBe(4);
    // The contact first seen in the failed plain statement exists once (created by the rerun).
    expect(await t.db.query(`SELECT 1 FROM contacts WHERE external_id = 'u-dup-new'`)).toHaveLength(1);
  });

  it('concurrent requests where only one holds a stored messageId: every request gets its own exact answer', async () => {
    await post('/v1/track', track('conc-0', 'conc'));
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, r) => post('/v1/batch', { batch: [track(`conc-${r}-a`, 'conc'), track(r === 3 ? 'conc-0' : `conc-${r}-b`, 'conc')] })),
    );
    answers.forEach((res, r) => expect(res.body).toEqual({ success: true, accepted: r === 3 ? 1 : 2, duplicates: r === 3 ? 1 : 0, rejected: [] }));
    expect(await rolled('conc')).toBe(1 + 19);
  });
});
