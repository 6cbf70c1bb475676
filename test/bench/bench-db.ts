import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { runMigrations } from '../../src/database/data-source';
import { withDatabase } from '../../src/database/database-runtime';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { freePort } from '../support/ports';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface BenchServer {
  /** The server's maintenance URL (database `postgres`). */
  url: string;
  /** A fresh migrated database on this server; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** The embedded server's postmaster (undefined with BENCH_DATABASE_URL). */
  serverPid(): number | undefined;
  close(): Promise<void>;
}

/**
 * A real PostgreSQL for benchmarks: BENCH_DATABASE_URL's server, or a fresh embedded server
 * (durable settings, as in production) in a temp dir, removed on close.
 */
export async function benchServer(): Promise<BenchServer> {
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
  const url = serverUrl;
  return {
    url,
    async createDatabase(name: string) {
      const dbName = `${name}_${Date.now()}`;
      await admin(url, `CREATE DATABASE ${dbName}`);
      const dbUrl = withDatabase(url, dbName);
      await runMigrations(dbUrl);
      return dbUrl;
    },
    serverPid: () => (dir ? Number(fs.readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) : undefined),
    async close() {
      if (server) await server.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh migrated database on a fresh benchmark server (see benchServer). */
export async function benchDatabase(name = 'bench'): Promise<{ url: string; close(): Promise<void>; serverPid(): number | undefined }> {
  const server = await benchServer();
  return { url: await server.createDatabase(name), close: () => server.close(), serverPid: () => server.serverPid() };
}

/**
 * A generated data set kept between runs: a persistent embedded server under
 * `var/bench-cache/` (port 54391; or BENCH_DATABASE_URL's server) holds one template database
 * per data-set key, generated once; every run gets its own copy (CREATE DATABASE … TEMPLATE,
 * a file copy) brought up to date by the migrations, and dropped on close. `--fresh` callers
 * pass regenerate to build the data set again.
 */
export async function cachedDatabase(
  key: string,
  generate: (url: string) => Promise<unknown>,
  o: { regenerate?: boolean; log?: (msg: string) => void } = {},
): Promise<{ url: string; generated: boolean; close(): Promise<void> }> {
  const log = o.log ?? (() => {});
  // eslint-disable-next-line no-restricted-properties
  const given = process.env.BENCH_DATABASE_URL;
  const server = given ? undefined : new EmbeddedPostgres({ dir: path.join(ROOT, 'var', 'bench-cache', 'pg'), port: 54391, password: 'bench' });
  if (server) fs.mkdirSync(path.join(ROOT, 'var', 'bench-cache'), { recursive: true });
  if (server) await server.start();
  const serverUrl = given ?? server!.url;
  const template = `cache_${key}`;
  const exists = async (name: string) => (await admin(serverUrl, `SELECT 1 FROM pg_database WHERE datname = '${name}'`)).length > 0;
  let generated = false;
  if (o.regenerate && (await exists(template))) await admin(serverUrl, `DROP DATABASE ${template} WITH (FORCE)`);
  if (!(await exists(template))) {
    // Built under another name and renamed when complete: an interrupted build is never used as the cache.
    const building = `${template}_building`;
    if (!(await exists(building))) await admin(serverUrl, `CREATE DATABASE ${building}`);
    const url = withDatabase(serverUrl, building);
    await runMigrations(url);
    const t0 = Date.now();
    log(`generating the ${key} data set (kept for the next runs)`);
    await generate(url);
    await admin(serverUrl, `ALTER DATABASE ${building} RENAME TO ${template}`);
    log(`generated in ${Math.round((Date.now() - t0) / 1000)} s`);
    generated = true;
  }
  const run = `${key}_run_${Date.now()}`;
  const t1 = Date.now();
  await admin(serverUrl, `CREATE DATABASE ${run} TEMPLATE ${template} STRATEGY = FILE_COPY`);
  const url = withDatabase(serverUrl, run);
  await runMigrations(url);
  log(`copied the cached data set into ${run} in ${Math.round((Date.now() - t1) / 1000)} s`);
  return {
    url,
    generated,
    async close() {
      await admin(serverUrl, `DROP DATABASE IF EXISTS ${run} WITH (FORCE)`);
      if (server) await server.stop();
    },
  };
}

async function admin(serverUrl: string, sql: string): Promise<unknown[]> {
  const c = new Client({ connectionString: serverUrl });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}
