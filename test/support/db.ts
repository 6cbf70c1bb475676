import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { withDatabase } from '../../src/database/database-runtime';
import { TEMPLATE_DB } from './pg-server';

export interface TestDatabase {
  url: string;
  name: string;
  /** A pool for assertions straight against the database. */
  pool: Pool;
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.TOUCHLINE_TEST_PG;
  if (!url) throw new Error('TOUCHLINE_TEST_PG is not set: run tests through jest (global setup starts PostgreSQL)');
  return url;
}

/** A fresh database for one test file, cloned from the migrated template (fast, isolated). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl(), name);
  const pool = new Pool({ connectionString: url, max: 4 });
  return {
    url,
    name,
    pool,
    query: async (sql, params) => (await pool.query(sql, params as any[])).rows,
    drop: async () => {
      await pool.end();
      const c = new Client({ connectionString: serverUrl() });
      await c.connect();
      try {
        // Let connections that an app is still closing finish first: forcing them off would
        // surface as an unhandled 57P01 in whichever client still held one.
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name}`);
            return;
          } catch (err) {
            if ((err as { code?: string }).code !== '55006') throw err; // in use by other sessions
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
