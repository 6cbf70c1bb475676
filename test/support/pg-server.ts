import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { freePort } from './ports';

export const TEMPLATE_DB = 'tl_template';
export const STATE_FILE = path.join(os.tmpdir(), `touchline-test-pg-${process.pid}.json`);

export interface TestPgState {
  serverUrl: string;
  dir?: string;
  port?: number;
}

/**
 * One real PostgreSQL for the whole run. Tests trade durability for speed (fsync off), but
 * keep synchronous_commit on so crash tests still see what was acknowledged.
 */
export async function startTestServer(): Promise<{ state: TestPgState; server?: EmbeddedPostgres }> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) return { state: { serverUrl: given } };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-test-pg-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    dir: path.join(dir, 'data'),
    port,
    password: 'touchline-test',
    settings: { fsync: 'off', full_page_writes: 'off', shared_buffers: '256MB', max_connections: 500 },
  });
  await server.start();
  return { state: { serverUrl: server.url, dir, port }, server };
}
