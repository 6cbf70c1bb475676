import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Step runners claim enrollments with row locks held by the batch's own transaction (the
 * server ends a session that outlives ENGINE_LEASE_MS, which releases them) instead of writing
 * a lease: a claim no longer writes a new row version with its five index entries. The lease
 * columns are read and written by nothing now.
 */
export class EnrollmentClaimsAsLocks1763950000000 implements MigrationInterface {
  name = 'EnrollmentClaimsAsLocks1763950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE enrollments DROP COLUMN lease_token, DROP COLUMN leased_by, DROP COLUMN lease_until`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE enrollments ADD COLUMN lease_token bigint NOT NULL DEFAULT 0, ADD COLUMN leased_by text, ADD COLUMN lease_until timestamptz`);
  }
}
