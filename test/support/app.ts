import type { NestExpressApplication } from '@nestjs/platform-express';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApp } from '../../src/app';
import { VirtualClock } from '../../src/common/clock';
import { Config, loadConfig } from '../../src/config/config';
import { createTestDatabase, TestDatabase } from './db';

export const TEST_KEYS = {
  ingest: 'test-ingest-key-0123456789',
  author: 'test-author-key-0123456789',
  review: 'test-review-key-0123456789',
  admin: 'test-admin-key-01234567890',
};

export const ROOT = path.resolve(__dirname, '..', '..');

/** A config for tests: temp data dir, known keys, quiet logs. `env` overrides any variable. */
export function testConfig(env: Record<string, string> = {}): Config {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-test-data-'));
  return loadConfig(
    {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      TOUCHLINE_ROLE: 'api',
      TOUCHLINE_INGEST_KEY: TEST_KEYS.ingest,
      TOUCHLINE_AUTHOR_KEY: TEST_KEYS.author,
      TOUCHLINE_REVIEW_KEY: TEST_KEYS.review,
      TOUCHLINE_ADMIN_KEY: TEST_KEYS.admin,
      TEMPLATES_DIR: path.join(ROOT, 'templates'),
      JOURNEYS_DIR: path.join(ROOT, 'journeys'),
      ...env,
    },
    { cwd: ROOT },
  );
}

export interface TestApp {
  app: NestExpressApplication;
  url: string;
  db: TestDatabase;
  clock: VirtualClock;
  config: Config;
  /** fetch against the app with an API key of a scope (or none). */
  request(method: string, path: string, options?: { body?: unknown; key?: keyof typeof TEST_KEYS | null; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; body: any; headers: Headers; text: string }>;
  close(): Promise<void>;
}

/** The real app over HTTP on a random port, on its own fresh database, with a virtual clock. */
export async function startTestApp(options: { env?: Record<string, string>; now?: string; db?: TestDatabase } = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const config = testConfig(options.env);
  const clock = new VirtualClock(options.now ?? '2026-11-20T03:00:00Z');
  const app = await createApp({ config, clock, databaseUrl: db.url });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    url,
    db,
    clock,
    config,
    async request(method, p, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const key = o.key === undefined ? 'admin' : o.key;
      if (key) headers.authorization = `Bearer ${TEST_KEYS[key]}`;
      let body: string | undefined = o.raw;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(url + p, { method, headers, body, redirect: 'manual' });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed, headers: res.headers, text };
    },
    async close() {
      await app.close();
      if (!options.db) await db.drop();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
