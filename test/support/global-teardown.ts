import * as fs from 'node:fs';
import type { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { STATE_FILE, TestPgState } from './pg-server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __touchlinePg?: EmbeddedPostgres }).__touchlinePg;
  await server?.stop();
  if (fs.existsSync(STATE_FILE)) {
    const state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as TestPgState;
    if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
    fs.rmSync(STATE_FILE, { force: true });
  }
}
