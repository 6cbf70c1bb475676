import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, TEST_KEYS } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/db';
import { freePort } from '../support/ports';

/**
 * The built service (`node dist/src/main.js`) in its own process on CLOCK=scaled: what it
 * stamps with its clock (an ingested event's received_at) is virtual time at the given
 * speed from the given start — what lets the soak benchmark run API and workers on one
 * compressed month.
 */
describe('CLOCK=scaled in a separate service process', () => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-clock-'));
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('stamps received_at with virtual time running at CLOCK_SPEED from CLOCK_START', async () => {
    const port = await freePort();
    const anchor = Date.now();
    child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        TOUCHLINE_ROLE: 'api',
        DATABASE_URL: db.url,
        DATABASE_POOL_SIZE: '3',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        DEMO_SEED: 'false',
        TOUCHLINE_INGEST_KEY: TEST_KEYS.ingest,
        TOUCHLINE_AUTHOR_KEY: TEST_KEYS.author,
        TOUCHLINE_REVIEW_KEY: TEST_KEYS.review,
        TOUCHLINE_ADMIN_KEY: TEST_KEYS.admin,
        CLOCK: 'scaled',
        CLOCK_START: '2030-01-01T00:00:00Z',
        CLOCK_SPEED: '3600',
        CLOCK_ANCHOR: String(anchor),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const banner = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`service did not start: ${out}`)), 90_000);
      const take = (d: Buffer) => {
        out += d.toString();
        if (out.includes('Touchline is running')) {
          clearTimeout(timer);
          resolve(out);
        }
      };
      child!.stdout!.on('data', take);
      child!.stderr!.on('data', take);
      child!.on('exit', (code) => reject(new Error(`service exited with ${code}: ${out}`)));
    });
    expect(banner).toMatch(/VIRTUAL CLOCK \(CLOCK=scaled\): 2030-01-01T\d\d:\d\d:\d\d\.\d+Z running at 3600x real time/);

    const res = await fetch(`http://127.0.0.1:${port}/v1/track`, {
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
  }, 120_000);
});
