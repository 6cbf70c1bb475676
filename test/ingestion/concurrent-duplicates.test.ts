import { Client } from 'pg';
import { startTestApp, TestApp } from '../support/app';

/**
 * Track statements insert events without ON CONFLICT (no speculative insertion); a messageId
 * committed by a concurrent writer after the statement's snapshot makes the insert fail on the
 * unique key, and the statement runs again with ON CONFLICT DO NOTHING. The client sees a
 * normal answer: the event counted once, as a duplicate for the later request.
 */
describe('ingestion: a messageId written concurrently by another transaction', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-11-20T03:00:00Z' });
  });
  afterAll(() => t.close());

  it('is answered as a duplicate (not an error) once the other transaction commits, and counted once', async () => {
    const other = new Client({ connectionString: t.db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO events (message_id, type, name, occurred_at, received_at) VALUES ('race-1', 'track', 'raced', '2026-11-19T10:00:00Z', '2026-11-19T10:00:00Z')`,
      );
      const answer = t.request('POST', '/v1/batch', {
        key: 'ingest',
        body: {
          batch: [
            { type: 'track', userId: 'u-race', event: 'raced', messageId: 'race-1', timestamp: '2026-11-19T10:00:00Z' },
            { type: 'track', userId: 'u-race', event: 'raced', messageId: 'race-2', timestamp: '2026-11-19T10:00:00Z' },
          ],
        },
      });
      // The ingestion statement waits on the uncommitted race-1 until the other transaction ends.
      await waitFor(async () => (await other.query(`SELECT 1 FROM pg_locks WHERE NOT granted`)).rows.length > 0);
      await other.query('COMMIT');
      const res = await answer;
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, accepted: 1, duplicates: 1, rejected: [] });
    } finally {
      await other.end();
    }
    expect(await t.db.query(`SELECT message_id FROM events WHERE message_id LIKE 'race-%' ORDER BY 1`)).toEqual([{ message_id: 'race-1' }, { message_id: 'race-2' }]);
    // Only what this request inserted is rolled up (the other writer maintains its own rollups).
    const [{ rolled }] = await t.db.query(`SELECT sum(count)::int AS rolled FROM event_rollups WHERE event = 'raced'`);
    expect(rolled).toBe(1);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting for the ingestion statement to block');
    await new Promise((r) => setTimeout(r, 20));
  }
}
