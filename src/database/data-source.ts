import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';

/**
 * The pool's client, never without an 'error' listener. pg emits 'error' on a client whose
 * session the server ends (a restart, a terminated backend, a step batch past its lease) when
 * no statement is in flight; a client had a listener only while idle in the pool (the pool's)
 * or held by TypeORM (TypeORM's) — fault test 2 (PostgreSQL restarted) saw a worker crash on
 * one that had none. Statements still fail with the error and the pool and TypeORM still
 * discard the client: this only keeps the process up.
 */
export class PooledClient extends Client {
  constructor(config?: ConstructorParameters<typeof Client>[0]) {
    super(config);
    this.on('error', () => undefined);
  }
}

export function dataSourceOptions(url: string, poolSize = 20): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    entities: [],
    extra: { max: poolSize, connectionTimeoutMillis: 10_000, application_name: 'touchline', Client: PooledClient },
  };
}

/**
 * The key of the session-level advisory lock that serialises migrations between processes:
 * the first process to start applies them while the others wait, then find nothing pending.
 */
export const MIGRATION_LOCK_KEY = 0x746c_6d69; // "tlmi"

/** Applies pending migrations (one process at a time per database); returns the names applied. */
export async function runMigrations(url: string): Promise<string[]> {
  const lock = new Client({ connectionString: url, application_name: 'touchline-migrate-lock' });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const ds = new DataSource(dataSourceOptions(url, 2));
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await ds.destroy();
    }
  } finally {
    // Ending the session releases the lock even if the unlock below never runs.
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}
