import * as path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../config/config';
import { runMigrations } from './data-source';
import { EmbeddedPostgres } from './embedded-postgres';

export interface DatabaseRuntime {
  url: string;
  embedded: boolean;
  /** True when the embedded cluster was created by this start (an empty database). */
  fresh: boolean;
  migrationsApplied: string[];
  /** Stops the embedded server if this process started it. */
  close(): Promise<void>;
}

export const EMBEDDED_DB_NAME = 'touchline';

/**
 * Resolves the database: DATABASE_URL when set, otherwise the embedded server under
 * DATA_DIR/pg (started, or reused when already running). Then migrates.
 */
export async function openDatabase(config: Config, log: (msg: string) => void = () => {}): Promise<DatabaseRuntime> {
  let url = config.database.url;
  let server: EmbeddedPostgres | undefined;
  let fresh = false;
  if (!url) {
    server = new EmbeddedPostgres({
      dir: path.join(config.dataDir, 'pg'),
      port: config.database.embeddedPort,
      password: config.secrets.embeddedDbPassword,
    });
    const started = await server.start();
    log(
      started.reused
        ? `using the embedded PostgreSQL already running on port ${config.database.embeddedPort}`
        : `started embedded PostgreSQL on 127.0.0.1:${config.database.embeddedPort} (data in ${path.join(config.dataDir, 'pg')})`,
    );
    fresh = await ensureDatabase(server.url, EMBEDDED_DB_NAME);
    url = withDatabase(server.url, EMBEDDED_DB_NAME);
  }
  const applied = await runMigrations(url);
  if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
  return {
    url,
    embedded: !!server,
    fresh,
    migrationsApplied: applied,
    close: async () => {
      await server?.stop();
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates the database if missing; returns true when it was created. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<boolean> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } catch (err) {
      // Another process starting at the same moment created it first.
      if (['42P04', '23505'].includes((err as { code?: string }).code ?? '')) return false;
      throw err;
    }
    return true;
  } finally {
    await client.end();
  }
}
