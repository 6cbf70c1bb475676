import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { migrations } from '../../migrations';
import { runMigrations } from '../../src/database/data-source';
import { withDatabase } from '../../src/database/database-runtime';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { freePort } from '../support/ports';

/**
 * A real PostgreSQL for a benchmark: a fresh embedded server (durable settings, as in
 * production) or BENCH_DATABASE_URL's server. Returns the URL of a fresh migrated database.
 */
export async function benchDatabase(name = 'bench'): Promise<{ url: string; close(): Promise<void> }> {
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
    async close() {
      if (server) await server.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh database holding generated data, cached between runs when BENCH_DATABASE_URL names
 * a server that outlives the run: the first run migrates and fills a template database named
 * after `key` and the migration list (a schema change regenerates), later runs clone it
 * (`CREATE DATABASE … TEMPLATE`). Without BENCH_DATABASE_URL it is `benchDatabase` + `fill`.
 */
export async function cachedBenchDatabase(name: string, key: string, fill: (url: string) => Promise<void>): Promise<{ url: string; cached: boolean; close(): Promise<void> }> {
  // eslint-disable-next-line no-restricted-properties
  const given = process.env.BENCH_DATABASE_URL;
  if (!given) {
    const db = await benchDatabase(name);
    await fill(db.url);
    return { ...db, cached: false };
  }
  const schema = createHash('sha256').update(migrations.map((m) => m.name).join(',')).digest('hex').slice(0, 10);
  const template = `${name}_gen_${key.replace(/[^a-z0-9]+/gi, '_')}_${schema}`.toLowerCase();
  const c = new Client({ connectionString: given });
  await c.connect();
  try {
    const exists = (await c.query(`SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate`, [template])).rowCount;
    const cached = Boolean(exists);
    if (!cached) {
      await c.query(`DROP DATABASE IF EXISTS ${template}`);
      await c.query(`CREATE DATABASE ${template}`);
      const url = withDatabase(given, template);
      await runMigrations(url);
      await fill(url);
      await c.query(`ALTER DATABASE ${template} IS_TEMPLATE true`);
    }
    const dbName = `${name}_${Date.now()}`;
    // FILE_COPY: a plain copy of the files, much faster for gigabytes than the default WAL_LOG strategy.
    await c.query(`CREATE DATABASE ${dbName} TEMPLATE ${template} STRATEGY = FILE_COPY`);
    return {
      url: withDatabase(given, dbName),
      cached,
      async close() {
        const d = new Client({ connectionString: given });
        await d.connect();
        await d.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).finally(() => d.end());
      },
    };
  } finally {
    await c.end();
  }
}
