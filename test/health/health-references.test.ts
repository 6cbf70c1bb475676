import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../support/db';

// account_health and health_snapshots refer to accounts through set-based checks (migration
// 1763920000400) instead of per-row foreign keys: the same guarantees, proved here.
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function account(ext: string): Promise<string> {
  const [r] = await db.query<{ id: string }>(`INSERT INTO accounts (external_id, name, created_at, updated_at) VALUES ($1, $1, now(), now()) RETURNING id`, [ext]);
  return r.id;
}
const score = (id: string | number) =>
  db.query(`INSERT INTO account_health (account_id, score, band, computed_at) VALUES ($1, 50, 'yellow', now())`, [id]);
const snapshot = (id: string | number, day: string) =>
  db.query(`INSERT INTO health_snapshots (account_id, day, score, band, profile, components, computed_at) VALUES ($1, $2, 50, 'yellow', 'default', '{}', now())`, [id, day]);
const counts = async () =>
  (await db.query(`SELECT (SELECT count(*)::int FROM account_health) AS current, (SELECT count(*)::int FROM health_snapshots) AS snapshots`))[0];

describe('health rows and their accounts', () => {
  it('refuses a score or a snapshot, alone or among others, for an account that does not exist', async () => {
    const id = await account('ref-a');
    await expect(score('987654321')).rejects.toMatchObject({ code: '23503', message: expect.stringContaining('account 987654321') });
    await expect(snapshot('987654321', '2026-11-20')).rejects.toMatchObject({ code: '23503' });
    await expect(
      db.query(`INSERT INTO health_snapshots (account_id, day, score, band, profile, components, computed_at)
                SELECT x, '2026-11-20', 50, 'yellow', 'default', '{}', now() FROM unnest($1::bigint[]) x`, [[id, '987654321']]),
    ).rejects.toMatchObject({ code: '23503' });
    expect(await counts()).toEqual({ current: 0, snapshots: 0 });
    await score(id);
    await snapshot(id, '2026-11-20');
    expect(await counts()).toEqual({ current: 1, snapshots: 1 });
  });

  it('refuses to move a row to another account, or to change a scored account id', async () => {
    const id = await account('ref-b');
    const other = await account('ref-c');
    await score(id);
    await snapshot(id, '2026-11-21');
    await expect(db.query(`UPDATE account_health SET account_id = $1 WHERE account_id = $2`, [other, id])).rejects.toMatchObject({ code: '23503' });
    await expect(db.query(`UPDATE health_snapshots SET account_id = $1 WHERE account_id = $2`, [other, id])).rejects.toMatchObject({ code: '23503' });
    await expect(db.query(`UPDATE accounts SET id = 987654322 WHERE id = $1`, [id])).rejects.toMatchObject({ code: '23503' });
    await db.query(`UPDATE account_health SET score = 60 WHERE account_id = $1`, [id]);
  });

  it('deletes the rows of deleted accounts and empties both tables when accounts are truncated', async () => {
    const id = await account('ref-d');
    const kept = await account('ref-e');
    await score(id);
    await snapshot(id, '2026-11-19');
    await snapshot(id, '2026-11-20');
    await score(kept);
    await db.query(`DELETE FROM accounts WHERE id = $1`, [id]);
    expect(await db.query(`SELECT account_id FROM account_health WHERE account_id IN ($1, $2)`, [id, kept])).toEqual([{ account_id: kept }]);
    expect(await db.query(`SELECT 1 FROM health_snapshots WHERE account_id = $1`, [id])).toEqual([]);
    await db.query(`TRUNCATE accounts CASCADE`);
    expect(await counts()).toEqual({ current: 0, snapshots: 0 });
    await score(await account('ref-h'));
    await db.query(`TRUNCATE account_health, accounts CASCADE`);
    expect(await counts()).toEqual({ current: 0, snapshots: 0 });
  });

  it('an account cannot be deleted under rows being inserted for it, and rows cannot be inserted for an account being deleted', async () => {
    const id = await account('ref-f');
    const a = new Client({ connectionString: db.url });
    const b = new Client({ connectionString: db.url });
    await a.connect();
    await b.connect();
    try {
      // The insert locks the account: the delete waits for the insert's commit, then deletes its row too.
      await a.query('BEGIN');
      await a.query(`INSERT INTO account_health (account_id, score, band, computed_at) VALUES ($1, 50, 'yellow', now())`, [id]);
      const deleting = b.query(`DELETE FROM accounts WHERE id = $1`, [id]);
      await new Promise((r) => setTimeout(r, 300));
      await a.query('COMMIT');
      await deleting;
      expect(await db.query(`SELECT 1 FROM account_health WHERE account_id = $1`, [id])).toEqual([]);

      // The delete in flight: the insert waits for it, then fails.
      const id2 = await account('ref-g');
      await b.query('BEGIN');
      await b.query(`DELETE FROM accounts WHERE id = $1`, [id2]);
      const inserting = a.query(`INSERT INTO health_snapshots (account_id, day, score, band, profile, components, computed_at) VALUES ($1, '2026-11-20', 50, 'yellow', 'default', '{}', now())`, [id2]);
      const failed = expect(inserting).rejects.toMatchObject({ code: '23503' });
      await new Promise((r) => setTimeout(r, 300));
      await b.query('COMMIT');
      await failed;
      expect(await db.query(`SELECT 1 FROM health_snapshots WHERE account_id = $1`, [id2])).toEqual([]);
    } finally {
      await a.end();
      await b.end();
    }
  });
});
