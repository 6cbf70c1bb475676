import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source';
import { createTestDatabase, TestDatabase } from '../support/db';

/**
 * The server ends sessions under the service: a restart, `pg_terminate_backend`, a step batch
 * past its lease. pg then emits 'error' on the client; with no listener on it (a client held
 * by a transaction between statements after TypeORM dropped its own, or one being discarded)
 * that crashed the process. The statement in hand fails, the pool discards the client, and
 * the process and the pool go on.
 */
describe('database: a session ended by the server', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = new DataSource(dataSourceOptions(db.url, 4));
    await ds.initialize();
    process.on('uncaughtException', onUncaught);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await ds.destroy();
    await db.drop();
  });

  it('fails the transaction in hand, never the process, and the pool serves the next statement', async () => {
    for (let round = 0; round < 5; round++) {
      const attempt = ds.transaction(async (m) => {
        const [{ pid }] = await m.query('SELECT pg_backend_pid() AS pid');
        // Idle in the transaction while another session ends this one (FATAL 57P01, then the socket closes).
        await db.query('SELECT pg_terminate_backend($1)', [pid]);
        await new Promise((res) => setTimeout(res, 200));
        await m.query('SELECT 1');
      });
      await expect(attempt).rejects.toThrow();
      expect(await ds.query('SELECT 41 + 1 AS n')).toEqual([{ n: 42 }]);
    }
    expect(uncaught).toEqual([]);
  });
});
