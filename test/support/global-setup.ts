import * as fs from 'node:fs';
import { Client } from 'pg';
import { runMigrations } from '../../src/database/data-source';
import { withDatabase } from '../../src/database/database-runtime';
import { startTestServer, STATE_FILE, TEMPLATE_DB } from './pg-server';

/** Starts the run's PostgreSQL and migrates the template every test database is cloned from. */
export default async function globalSetup(): Promise<void> {
  const { state, server } = await startTestServer();
  const admin = new Client({ connectionString: state.serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();
  await runMigrations(withDatabase(state.serverUrl, TEMPLATE_DB));
  fs.writeFileSync(STATE_FILE, JSON.stringify(state));
  process.env.TOUCHLINE_TEST_PG = state.serverUrl;
  (globalThis as { __touchlinePg?: unknown }).__touchlinePg = server;
}
