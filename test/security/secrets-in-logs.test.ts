import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTestDatabase, TestDatabase } from '../support/db';
import { freePort } from '../support/ports';

/**
 * Secrets never reach the logs. The built service runs as `npm start` would (its own
 * process, debug logging, workers on, an SMTP URL with a password that the dispatcher will
 * fail to reach), starting from an empty data directory so it generates its secrets. A
 * scripted session then sends requests with every scope's key in every accepted form, a
 * wrong key, a Postmark webhook with its password, a console login with a key in the form
 * body. Everything the process printed must hold none of those strings.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const SMTP_PASSWORD = 'Smtp-Pa55word-never-logged';
const POSTMARK_PASSWORD = 'postmark-Pa55word-never-logged';
const WRONG_KEY = 'wrong-key-0123456789-never-logged';

describe('secrets never appear in logs', () => {
  let db: TestDatabase;
  let child: ChildProcess;
  let output = '';
  let base = '';
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-logs-'));
  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    const smtpPort = await freePort(); // nothing listens there
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'trace',
        TOUCHLINE_ROLE: 'all',
        SMTP_URL: `smtp://mailer:${SMTP_PASSWORD}@127.0.0.1:${smtpPort}`,
        POSTMARK_WEBHOOK_USER: 'postmark',
        POSTMARK_WEBHOOK_PASSWORD: POSTMARK_PASSWORD,
        DEMO_SEED: 'false',
        ENGINE_TICK_MS: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const started = Date.now();
    while (!output.includes('Touchline is running')) {
      if (Date.now() - started > 90_000 || child.exitCode !== null) throw new Error(`service did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keys, signing secrets and passwords are not printed during a scripted session', async () => {
    const secrets = JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8'));
    const keys = secrets.apiKeys as Record<string, string>;
    const get = (p: string, headers: Record<string, string> = {}) => fetch(base + p, { headers, redirect: 'manual' });
    expect((await get('/api/sending-health', { authorization: `Bearer ${keys.review}` })).status).toBe(200);
    expect((await get('/api/sending-health', { 'x-api-key': keys.admin })).status).toBe(200);
    expect((await get('/metrics', { authorization: `Bearer ${keys.admin}` })).status).toBe(200);
    const basic = 'Basic ' + Buffer.from(`${keys.ingest}:`).toString('base64');
    const track = await fetch(`${base}/v1/track`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'u1', event: 'login' }) });
    expect(track.status).toBeLessThan(300);
    expect((await get('/api/templates', { authorization: `Bearer ${keys.author}` })).status).toBe(200);
    expect((await get('/api/sending-health', { authorization: `Bearer ${WRONG_KEY}` })).status).toBe(403);
    const postmark = await fetch(`${base}/webhooks/postmark`, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(`postmark:${POSTMARK_PASSWORD}`).toString('base64'), 'content-type': 'application/json' },
      body: JSON.stringify({ RecordType: 'Bounce', Type: 'HardBounce', Email: 'nobody@example.com', ID: 1, BouncedAt: new Date().toISOString() }),
    });
    expect(postmark.status).toBeLessThan(500);
    const login = await fetch(`${base}/console/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${keys.review}&_csrf=x` });
    expect(login.status).toBe(403); // no CSRF cookie: refused, but the key was in the body
    expect((await get('/console/accounts', { cookie: `tl_session=${keys.admin}` })).status).toBe(303);
    // Let the workers tick and the dispatcher try (and fail) to reach the SMTP server.
    await new Promise((r) => setTimeout(r, 3000));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));

    expect(output).toContain('/api/sending-health'); // requests were logged: the check below is not vacuous
    const forbidden: [string, string][] = [
      ...Object.entries(keys).map(([scope, k]) => [`${scope} key`, k] as [string, string]),
      ...(secrets.trackingKeys as { id: string; secret: string }[]).map((k) => [`tracking key ${k.id}`, k.secret] as [string, string]),
      ['session secret', secrets.sessionSecret],
      ['SMTP password', SMTP_PASSWORD],
      ['Postmark password', POSTMARK_PASSWORD],
      ['a wrong key', WRONG_KEY],
      ['basic credentials', basic.slice(6)],
    ];
    const leaks = forbidden.filter(([, s]) => s && output.includes(s)).map(([what]) => what);
    expect(leaks).toEqual([]);
  }, 120_000);
});
