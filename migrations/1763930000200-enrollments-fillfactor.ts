import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every step updates an enrollment twice: the claim (lease_until, leased_by, lease_token —
 * no indexed column) and the advance. With the default fillfactor (100) the rows that an
 * entry or the bench inserts fill their pages, so the claim's new row version does not fit on
 * the page and the "HOT" claim became a full update: a new entry in each of the table's five
 * indexes per claimed row (measured: 0.5 % of 10,000 claims HOT, and the claim's CPU about
 * halved with free space). 60 % of each page is kept free: HOT needs the claim's version on the
 * same page, and it is larger than the row it replaces (leased_by and lease_until were NULL);
 * at 50 a third of a page's claims still moved. Later writes prune the old versions. Applies
 * to pages written from now on; existing pages keep their rows until they are rewritten
 * (VACUUM FULL / CLUSTER), which is not needed.
 */
export class EnrollmentsFillfactor1763930000200 implements MigrationInterface {
  name = 'EnrollmentsFillfactor1763930000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE enrollments SET (fillfactor = 40)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE enrollments RESET (fillfactor)`);
  }
}
