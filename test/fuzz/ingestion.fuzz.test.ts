import fc from 'fast-check';
import { startTestApp, TestApp } from '../support/app';

/**
 * Property-based fuzzing of the ingestion API: whatever arrives, the answer is never a
 * 5xx, every rejection names an index and a field path, and nothing of a rejected item
 * is written (its messageId never appears in the events table).
 */
describe('ingestion API under generated input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const json = fc.jsonValue({ maxDepth: 3 });
  const id = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.constant(null), fc.constant(undefined), fc.constant('nul\u0000id'));
  const timestamp = fc.oneof(
    fc.date({ min: new Date('2000-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.string({ maxLength: 30 }),
    fc.constant(undefined),
  );
  const message = fc.record(
    {
      type: fc.oneof(fc.constantFrom('track', 'identify', 'group', 'page', 'alias', ''), fc.string({ maxLength: 8 }), fc.integer()),
      userId: id,
      anonymousId: id,
      groupId: id,
      event: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(undefined), fc.integer()),
      messageId: fc.uuid().map((u) => `fz-${u}`),
      timestamp,
      traits: fc.oneof(
        fc.dictionary(fc.constantFrom('email', 'phase', 'mrr', 'timezone', 'consent', 'name', 'x'), json),
        fc.constant(undefined),
        json,
      ),
      properties: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), json), json, fc.constant(undefined)),
      context: fc.oneof(fc.record({ groupId: id, locale: fc.string({ maxLength: 6 }) }), json, fc.constant(undefined)),
    },
    { requiredKeys: ['messageId'] },
  );
  const batchItem = fc.oneof({ weight: 8, arbitrary: message }, { weight: 1, arbitrary: json });

  it('never answers 5xx; rejected items name index and path and are not written', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(batchItem, { minLength: 1, maxLength: 12 }), async (batch) => {
        const res = await t.request('POST', '/v1/batch', { body: { batch }, key: 'ingest' });
        if (res.status >= 500) throw new Error(`5xx for ${JSON.stringify(batch).slice(0, 500)}: ${res.text}`);
        const rejected: { index: number; path: string; message: string }[] = res.status === 200 ? res.body.rejected : res.body.error.problems;
        if (!Array.isArray(rejected)) throw new Error(`no problem list: ${res.text}`);
        for (const r of rejected) {
          if (typeof r.index !== 'number' || !r.path.startsWith(`batch[${r.index}]`) || !r.message) throw new Error(`unnamed problem ${JSON.stringify(r)}`);
        }
        const rejectedIds = [...new Set(rejected.map((r) => (batch[r.index] as { messageId?: string })?.messageId).filter(Boolean))];
        if (rejectedIds.length) {
          const written = await t.db.query('SELECT message_id FROM events WHERE message_id = ANY($1)', [rejectedIds]);
          if (written.length) throw new Error(`rejected items were written: ${JSON.stringify(written)}`);
        }
        if (res.status === 200 && res.body.accepted + res.body.duplicates + new Set(rejected.map((r) => r.index)).size !== batch.length) {
          throw new Error(`counts do not add up: ${res.text}`);
        }
      }),
      { numRuns: 400 },
    );
  }, 300_000); // HTTP per case: generous for a loaded CI machine

  it('single-message endpoints never answer 5xx on arbitrary JSON bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/track', '/v1/identify', '/v1/group'), fc.oneof(message, json), async (path, body) => {
        const res = await t.request('POST', path, { body, key: 'ingest' });
        if (res.status >= 500) throw new Error(`5xx for ${JSON.stringify(body)}: ${res.text}`);
        if (res.status === 400 && !res.body.error.problems?.length && !res.body.error.message) throw new Error('unexplained 400');
      }),
      { numRuns: 600 },
    );
  }, 300_000);
});
