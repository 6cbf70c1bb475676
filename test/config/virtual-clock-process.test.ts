import { ServiceProcess, startService } from '../bench/service-process';
import { TEST_KEYS } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/db';

/**
 * The built service (`node dist/src/main.js`) in its own process on CLOCK=scaled: what it
 * stamps with its clock (an ingested event's received_at) is virtual time at the given
 * speed from the given start — what lets the soak benchmark run API and workers on one
 * compressed month.
 */
describe('CLOCK=scaled in a separate service process', () => {
  let db: TestDatabase;
  let svc: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await svc?.stop();
    await db.drop();
  });

  it('stamps received_at with virtual time running at CLOCK_SPEED from CLOCK_START', async () => {
    const anchor = Date.now();
    svc = await startService(db.url, {
      TOUCHLINE_ROLE: 'api',
      DATABASE_POOL_SIZE: '3',
      CLOCK: 'scaled',
      CLOCK_START: '2030-01-01T00:00:00Z',
      CLOCK_SPEED: '3600',
      CLOCK_ANCHOR: String(anchor),
    });
    expect(svc.startupOutput).toMatch(/VIRTUAL CLOCK \(CLOCK=scaled\): 2030-01-\d\dT\d\d:\d\d:\d\d\.\d+Z running at 3600x real time/);

    const res = await fetch(`${svc.url}/v1/track`, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(`${TEST_KEYS.ingest}:`).toString('base64'), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'u-1', event: 'login', messageId: 'clock-1' }),
    });
    expect(res.status).toBe(200);
    const elapsed = Date.now() - anchor;
    const [row] = await db.query<{ received_at: Date }>(`SELECT received_at FROM events WHERE message_id = 'clock-1'`);
    const virtualMs = row.received_at.getTime() - Date.parse('2030-01-01T00:00:00Z');
    // Between the anchor and now, real time ran `elapsed` ms: virtual time ran 3600 times that.
    expect(virtualMs).toBeGreaterThan(0);
    expect(virtualMs).toBeLessThanOrEqual(elapsed * 3600);
  }, 240_000);
});
