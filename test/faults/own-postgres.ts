import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Pool } from 'pg';
import { runMigrations } from '../../src/database/data-source';
import { withDatabase } from '../../src/database/database-runtime';
import type { TestDatabase } from '../support/db';
import { ROOT } from '../support/app';
import { freePort } from '../support/ports';

/**
 * A PostgreSQL server of the test's own (the embedded binaries, like the run's shared one),
 * so a scenario can stop and start it while the shared server keeps serving the other tests.
 */
export interface OwnPostgres {
  db: TestDatabase;
  /** pg_ctl stop -m fast: sessions are ended, in-flight transactions roll back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-faults-pg-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const password = 'touchline-faults';
  // The pg_ctl wrapper (src/database/embedded-postgres.ts), driven from a plain node process.
  const control = (command: 'start' | 'stop') =>
    new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [path.join(ROOT, 'dist', 'test', 'support', 'pg-control.js'), command, path.join(dir, 'data'), String(port), password], { timeout: 180_000 }, (err, _out, stderr) =>
        err ? reject(new Error(`${stderr || err.message}`)) : resolve(),
      ),
    );
  await control('start');
  const serverUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE faults');
  await admin.end();
  const url = withDatabase(serverUrl, 'faults');
  await runMigrations(url);
  const pool = new Pool({ connectionString: url, max: 4 });
  // Idle connections are ended by the restart: that is expected here, not a failure.
  pool.on('error', () => undefined);
  const db: TestDatabase = {
    url,
    name: 'faults',
    pool,
    query: async (sql, params) => (await pool.query(sql, params as unknown[])).rows,
    drop: async () => undefined, // the whole server goes in destroy()
  };
  return {
    db,
    stop: () => control('stop'),
    start: () => control('start'),
    destroy: async () => {
      await pool.end().catch(() => undefined);
      await control('stop').catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
