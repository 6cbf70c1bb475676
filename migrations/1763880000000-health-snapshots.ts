import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dated health snapshots (one per account per UTC day, replaced when the day is recomputed
 * again) so that trends, "why" and band changes over a window are queryable by
 * (account_id, day); the profile used beside the current score; a BRIN index on the rollups'
 * day so the recompute's recent-window pass does not read years of history.
 */
export class HealthSnapshots1763880000000 implements MigrationInterface {
  name = 'HealthSnapshots1763880000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE health_snapshots (
        account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        day         date NOT NULL,
        score       numeric(5,2) NOT NULL,
        band        text NOT NULL CHECK (band IN ('green','yellow','red')),
        profile     text NOT NULL,
        components  jsonb NOT NULL,
        computed_at timestamptz NOT NULL,
        PRIMARY KEY (account_id, day)
      )`);
    // Retention deletes by day; reports read one day's bands.
    await q.query(`CREATE INDEX health_snapshots_day_idx ON health_snapshots (day, band)`);
    await q.query(`ALTER TABLE account_health ADD COLUMN profile text`);
    // Rollups arrive roughly in day order, so a BRIN index is tiny and costs ingestion nearly nothing.
    await q.query(`CREATE INDEX event_rollups_day_brin ON event_rollups USING brin (day)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX event_rollups_day_brin`);
    await q.query(`ALTER TABLE account_health DROP COLUMN profile`);
    await q.query(`DROP TABLE health_snapshots`);
  }
}
