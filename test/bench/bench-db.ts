import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { runMigrations } from '../../src/database/data-source';
import { withDatabase } from '../../src/database/database-runtime';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { freePort } from '../support/ports';

/**
 * A real PostgreSQL for a benchmark: a fresh embedded server (durable settings, as in
 * production) or BENCH_DATABASE_URL's server. Returns the URL of a fresh migrated database.
 */
export async function benchDatabase(name = 'bench'): Promise<{ url: string; close(): Promise<void>; serverPid(): number | undefined }> {
  // eslint-disable-next-line no-restricted-properties
  const given = process.env.BENCH_DATABASE_URL;
  let server: EmbeddedPostgres | undefined;
  let dir: string | undefined;
  let serverUrl = given;
  if (!serverUrl) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-bench-pg-'));
    fs.chmodSync(dir, 0o755);
    server = new EmbeddedPostgres({ dir: path.join(dir, 'data'), port: await freePort(), password: 'bench' });
    await server.start();
    serverUrl = server.url;
  }
  const dbName = `${name}_${Date.now()}`;
  const c = new Client({ connectionString: serverUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${dbName}`);
  await c.end();
  const url = withDatabase(serverUrl, dbName);
  await runMigrations(url);
  return {
    url,
    /** The embedded server's postmaster (undefined with BENCH_DATABASE_URL). */
    serverPid: () => (dir ? Number(fs.readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) : undefined),
    async close() {
      if (server) await server.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
