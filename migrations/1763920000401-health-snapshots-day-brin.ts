import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * health_snapshots' btree on (day, band) served only the retention delete (by day): every
 * snapshot written paid an insertion into it (a first run of the day writes 100,000). Snapshots
 * are written a day at a time, in day order, so a BRIN index on day finds a day's pages as
 * well, for next to nothing per row. Reads by account go through the primary key (account_id, day).
 */
export class HealthSnapshotsDayBrin1763920000401 implements MigrationInterface {
  name = 'HealthSnapshotsDayBrin1763920000401';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX health_snapshots_day_idx`);
    await q.query(`CREATE INDEX health_snapshots_day_brin ON health_snapshots USING brin (day)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX health_snapshots_day_brin`);
    await q.query(`CREATE INDEX health_snapshots_day_idx ON health_snapshots (day, band)`);
  }
}
