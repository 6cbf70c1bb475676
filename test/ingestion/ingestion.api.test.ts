import { startTestApp, TestApp, TEST_KEYS } from '../support/app';

describe('ingestion API (Segment HTTP tracking spec)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-11-20T03:00:00Z' });
  });
  afterAll(() => t.close());

  const post = (path: string, body: unknown, key: 'ingest' | 'review' | null = 'ingest') => t.request('POST', path, { body, key });

  it('identify creates a contact with mapped fields and the rest as traits', async () => {
    const res = await post('/v1/identify', {
      userId: 'u-1',
      messageId: 'id-1',
      traits: { email: 'Ken@Example.com', firstName: '健太', lastName: '佐藤', title: 'admin', favourite: 'tea', consent: { marketing: true, source: 'signup' } },
      context: { locale: 'ja-JP', timezone: 'Asia/Tokyo' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, accepted: 1, duplicates: 0, rejected: [] });
    const [c] = await t.db.query('SELECT * FROM contacts WHERE external_id = $1', ['u-1']);
    expect(c).toMatchObject({ email: 'ken@example.com', name: '健太 佐藤', role: 'admin', locale: 'ja', timezone: 'Asia/Tokyo', consent_marketing: true, consent_source: 'signup' });
    expect(c.traits).toEqual({ favourite: 'tea' });
  });

  it('group creates the account and links the user; a second group updates only given fields', async () => {
    expect((await post('/v1/group', { userId: 'u-1', groupId: 'acme', traits: { name: 'Acme', plan: 'growth', mrr: 1200, phase: 'adoption', renewalDate: '2027-03-01', seats: 20 } })).status).toBe(200);
    expect((await post('/v1/group', { anonymousId: 'crm', groupId: 'acme', traits: { plan: 'enterprise', tier: 'gold' } })).status).toBe(200);
    const [a] = await t.db.query(`SELECT *, to_char(renewal_date,'YYYY-MM-DD') AS renewal FROM accounts WHERE external_id = 'acme'`);
    expect(a).toMatchObject({ name: 'Acme', plan: 'enterprise', phase: 'adoption', renewal: '2027-03-01', seats: 20 });
    expect(Number(a.mrr)).toBe(1200);
    expect(a.traits).toEqual({ tier: 'gold' });
    const [c] = await t.db.query(`SELECT account_id FROM contacts WHERE external_id = 'u-1'`);
    expect(c.account_id).toBe(a.id);
    expect(await t.db.query('SELECT * FROM account_contacts WHERE account_id = $1', [a.id])).toHaveLength(1);
  });

  it('track stores the event and maintains the daily rollup; a re-sent messageId changes nothing', async () => {
    const ev = { userId: 'u-1', event: 'login', messageId: 'ev-1', timestamp: '2026-11-19T10:00:00Z' };
    expect((await post('/v1/track', ev)).body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await post('/v1/track', ev)).body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await post('/v1/batch', { batch: [{ ...ev, type: 'track' }] })).body).toMatchObject({ accepted: 0, duplicates: 1 });
    const rollups = await t.db.query(`SELECT r.count, to_char(r.day,'YYYY-MM-DD') AS day FROM event_rollups r JOIN accounts a ON a.id = r.account_id WHERE a.external_id = 'acme' AND r.event = 'login'`);
    expect(rollups).toEqual([{ count: 1, day: '2026-11-19' }]);
    expect(await t.db.query(`SELECT 1 FROM events WHERE message_id = 'ev-1'`)).toHaveLength(1);
  });

  it('a batch keeps valid items and reports each rejected one with index, field path and reason', async () => {
    const res = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u-2', event: 'report_created', messageId: 'b-1' },
        { type: 'track', userId: 'u-2', event: '', messageId: 'b-2' },
        { type: 'track', event: 'login', messageId: 'b-3' },
        { type: 'page', userId: 'u-2' },
        { type: 'group', userId: 'u-2', groupId: 'g', traits: { phase: 'teenage' } },
        { type: 'track', userId: 'u-2', event: 'login', timestamp: 'yesterday' },
        'not an object',
        { type: 'track', userId: 'u-2', event: 'login', messageId: 'b-8', timestamp: '2026-11-25T00:00:00Z' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(1);
    expect(res.body.rejected).toEqual([
      { index: 1, path: 'batch[1].event', message: 'must not be empty' },
      { index: 2, path: 'batch[2].userId', message: 'userId or anonymousId is required' },
      { index: 3, path: 'batch[3].type', message: 'expected one of identify, group, track (got "page")' },
      { index: 4, path: 'batch[4].traits.phase', message: 'expected one of onboarding, adoption, established, renewal, churned (got "teenage")' },
      { index: 5, path: 'batch[5].timestamp', message: 'expected an ISO 8601 date-time such as 2026-11-22T09:30:00Z' },
      { index: 6, path: 'batch[6]', message: 'expected a JSON object' },
      { index: 7, path: 'batch[7].timestamp', message: 'is more than 24 hours in the future (2026-11-25T00:00:00.000Z)' },
    ]);
    // Nothing of the rejected items was written.
    expect(await t.db.query(`SELECT message_id FROM events WHERE message_id LIKE 'b-%' ORDER BY 1`)).toEqual([{ message_id: 'b-1' }]);
    expect(await t.db.query(`SELECT 1 FROM accounts WHERE external_id = 'g'`)).toHaveLength(0);
  });

  it('numbers beyond their column (mrr, seats) are rejected by field path, not a 500; the valid group is kept', async () => {
    const res = await post('/v1/batch', {
      batch: [
        { type: 'group', userId: 'u-big', groupId: 'big-1', traits: { mrr: 1.2e129 } },
        { type: 'group', userId: 'u-big', groupId: 'big-2', traits: { seats: 3e9 } },
        { type: 'group', userId: 'u-big', groupId: 'big-3', traits: { mrr: 999999999999, seats: 2147483647 } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.rejected).toEqual([
      { index: 0, path: 'batch[0].traits.mrr', message: 'expected a number from 0 to 999999999999 (got 1.2e+129)' },
      { index: 1, path: 'batch[1].traits.seats', message: 'expected a number from 0 to 2147483647 (got 3000000000)' },
    ]);
    expect(await t.db.query(`SELECT external_id, mrr, seats FROM accounts WHERE external_id LIKE 'big-%'`)).toEqual([{ external_id: 'big-3', mrr: '999999999999.00', seats: 2147483647 }]);
  });

  it('a batch with no valid item is a 400 that lists every problem', async () => {
    const res = await post('/v1/batch', { batch: [{ type: 'track', userId: 'x' }] });
    expect(res.status).toBe(400);
    expect(res.body.error.problems).toEqual([{ index: 0, path: 'batch[0].event', message: 'Invalid input: expected string, received undefined' }]);
    expect((await post('/v1/batch', { batch: [] })).body.error.problems).toEqual([{ path: 'batch', message: 'must hold at least one message' }]);
  });

  it('usage recorded before a user joins an account moves to that account', async () => {
    await post('/v1/track', { userId: 'u-late', event: 'login', messageId: 'late-1', timestamp: '2026-11-18T09:00:00Z' });
    await post('/v1/group', { userId: 'u-late', groupId: 'late-co', traits: { name: 'Late Co' } });
    const rows = await t.db.query(`SELECT a.external_id, r.count FROM event_rollups r JOIN accounts a ON a.id = r.account_id JOIN contacts c ON c.id = r.contact_id WHERE c.external_id = 'u-late'`);
    expect(rows).toEqual([{ external_id: 'late-co', count: 1 }]);
    expect(await t.db.query(`SELECT 1 FROM event_rollups r JOIN contacts c ON c.id = r.contact_id WHERE c.external_id = 'u-late' AND r.account_id = 0`)).toHaveLength(0);
  });

  it('a track resolves its account from context.groupId when the user belongs to several', async () => {
    await post('/v1/group', { userId: 'u-1', groupId: 'second-co', traits: { name: 'Second' } });
    await post('/v1/track', { userId: 'u-1', event: 'export_csv', messageId: 'ctx-1', context: { groupId: 'second-co' } });
    const [row] = await t.db.query(`SELECT a.external_id FROM events e JOIN accounts a ON a.id = e.account_id WHERE e.message_id = 'ctx-1'`);
    expect(row.external_id).toBe('second-co');
  });

  it('accepts the Segment write key as HTTP Basic user name, refuses missing or wrong keys', async () => {
    const basic = 'Basic ' + Buffer.from(`${TEST_KEYS.ingest}:`).toString('base64');
    const ok = await t.request('POST', '/v1/track', { body: { userId: 'u-1', event: 'login' }, key: null, headers: { authorization: basic } });
    expect(ok.status).toBe(200);
    const none = await post('/v1/track', { userId: 'u-1', event: 'login' }, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    const wrong = await post('/v1/track', { userId: 'u-1', event: 'login' }, 'review');
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.message).toBe('this API key does not have the "ingest" scope');
  });

  it('rejects malformed JSON with 400 and oversize bodies with a clear 413', async () => {
    const bad = await t.request('POST', '/v1/batch', { raw: '{"batch": [', key: 'ingest', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^request body is not valid JSON/);
    const huge = { batch: [{ type: 'track', userId: 'u', event: 'x', properties: { blob: 'x'.repeat(600 * 1024) } }] };
    const big = await post('/v1/batch', huge);
    expect(big.status).toBe(413);
    expect(big.body.error.message).toMatch(/exceeds the 524288 byte limit for \/v1\/batch/);
    const msg = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u', event: 'x', properties: { blob: 'x'.repeat(40 * 1024) } }] });
    expect(msg.status).toBe(400);
    expect(msg.body.error.problems[0]).toMatchObject({ path: 'batch[0]', message: expect.stringMatching(/the limit is 32768 bytes$/) });
  });

  it('corrects device clock skew with sentAt and originalTimestamp', async () => {
    // The device clock is 1 hour fast: sentAt says 05:00 while the server receives at 04:00.
    t.clock.set('2026-11-20T04:00:00Z');
    await post('/v1/track', { userId: 'u-1', event: 'skewed', messageId: 'skew-1', originalTimestamp: '2026-11-20T04:30:00Z', sentAt: '2026-11-20T05:00:00Z' });
    const [row] = await t.db.query(`SELECT occurred_at FROM events WHERE message_id = 'skew-1'`);
    expect(new Date(row.occurred_at).toISOString()).toBe('2026-11-20T03:30:00.000Z');
  });

  it('concurrent batches are group-committed yet each gets its own answer; overlapping messageIds are stored once', async () => {
    // 12 batches at once; each shares two messageIds with the next one and has one invalid item.
    const batches = Array.from({ length: 12 }, (_, b) => [
      ...Array.from({ length: 6 }, (_, i) => ({ type: 'track', userId: `gc-${b % 3}`, event: 'gc_event', messageId: `gc-${b}-${i}`, timestamp: '2026-11-19T12:00:00Z' })),
      { type: 'track', userId: 'gc-0', event: 'gc_event', messageId: `gc-${(b + 1) % 12}-0`, timestamp: '2026-11-19T12:00:00Z' },
      { type: 'track', userId: 'gc-0', event: 'gc_event', messageId: `gc-${(b + 1) % 12}-1`, timestamp: '2026-11-19T12:00:00Z' },
      { type: 'track', userId: 'gc-1', event: '', messageId: `gc-bad-${b}` },
    ]);
    const answers = await Promise.all(batches.map((batch) => post('/v1/batch', { batch })));
    for (const [b, res] of answers.entries()) {
      expect(res.status).toBe(200);
      expect(res.body.rejected).toEqual([{ index: 8, path: 'batch[8].event', message: 'must not be empty' }]);
      expect(res.body.accepted + res.body.duplicates).toBe(8);
      expect(res.body.accepted).toBeGreaterThanOrEqual(batches[b].length - 1 - 4); // at most its 4 shared ids went to another batch
    }
    const accepted = answers.reduce((n, r) => n + r.body.accepted, 0);
    const duplicates = answers.reduce((n, r) => n + r.body.duplicates, 0);
    expect(accepted).toBe(12 * 6); // every distinct messageId once
    expect(duplicates).toBe(12 * 2);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM events WHERE message_id LIKE 'gc-%'`);
    expect(n).toBe(72);
    const [{ rolled }] = await t.db.query(`SELECT sum(count)::int AS rolled FROM event_rollups WHERE event = 'gc_event'`);
    expect(rolled).toBe(72);
  });

  it('refuses a NUL character or a lone surrogate (which PostgreSQL cannot store) as bad input, naming the item', async () => {
    const res = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u-nul', event: 'login', messageId: 'nul-1' },
        { type: 'track', userId: 'u-nul', event: 'login', messageId: 'nul-2', properties: { note: 'a\u0000b' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, path: 'batch[1].properties.note', message: 'contains a NUL character (\\u0000), which cannot be stored' }] });
    expect((await post('/v1/track', { userId: 'u-nul', event: 'login', context: { groupId: 'g\u0000' } })).status).toBe(400);
    const lone = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u-nul', event: 'x\ud800y' }], context: { groupId: 'g\udc00' } });
    expect(lone.status).toBe(400);
    expect(lone.body.error.problems).toEqual([{ index: 0, path: 'batch[0].event', message: 'contains a lone UTF-16 surrogate (\\ud800), which cannot be stored' }]);
    const loneGroup = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u-nul', event: 'ok', messageId: 'nul-3' }], context: { groupId: 'g\udc00' } });
    expect(loneGroup.body.error.problems).toEqual([{ index: 0, path: 'batch[0].context.groupId', message: 'contains a lone UTF-16 surrogate (\\udc00), which cannot be stored' }]);
  });

  it('answers 2xx only after the data is committed (visible to another connection at once)', async () => {
    const res = await post('/v1/track', { userId: 'u-9', event: 'login', messageId: 'commit-1' });
    expect(res.status).toBe(200);
    expect(await t.db.query(`SELECT 1 FROM events WHERE message_id = 'commit-1'`)).toHaveLength(1);
  });
});
