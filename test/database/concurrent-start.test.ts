import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrations } from '../../migrations';
import { runMigrations } from '../../src/database/data-source';
import { ensureDatabase, withDatabase } from '../../src/database/database-runtime';

/**
 * Several processes started at once against one empty database (the scale-out runbook's case):
 * the database is created once and every migration is applied exactly once.
 */
describe('processes starting at the same moment', () => {
  const server = process.env.TOUCHLINE_TEST_PG!;
  const name = `t_start_${randomBytes(5).toString('hex')}`;

  afterAll(async () => {
    const admin = new Client({ connectionString: server });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('creates the database once and applies each migration once', async () => {
    const created = await Promise.all([1, 2, 3, 4].map(() => ensureDatabase(server, name)));
    expect(created.filter(Boolean)).toHaveLength(1);

    const url = withDatabase(server, name);
    const applied = await Promise.all([1, 2, 3, 4].map(() => runMigrations(url)));
    // One start applied everything; the others waited for the lock and found nothing pending.
    expect(applied.map((names) => names.length).sort((a, b) => a - b)).toEqual([0, 0, 0, migrations.length]);

    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const rows = (await c.query('SELECT name, count(*)::int AS n FROM migrations GROUP BY name')).rows;
      expect(rows).toHaveLength(migrations.length);
      expect(rows.every((r: { n: number }) => r.n === 1)).toBe(true);
      const lock = await c.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
      expect(lock.rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });
});
