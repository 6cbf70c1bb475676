import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two indexes of `enrollments` that no query needs: the wake-up statement finds running
 * enrollments by (journey, subject) — the subject id is the contact id of a per-contact
 * journey and the account id of a per-account one — through `enrollments_active_uniq`, and
 * the console's account timeline reads `enrollments_account_entered_idx`. Every index is
 * written by each trigger insert and by each step's advance (which changes `due_at`, so it
 * is never a HOT update): two fewer is ~40 % less index work per enrollment written.
 */
export class EngineLeanIndexes1763920000100 implements MigrationInterface {
  name = 'EngineLeanIndexes1763920000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS enrollments_account_idx, enrollments_contact_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX enrollments_account_idx ON enrollments (account_id) WHERE status = 'active'`);
    await q.query(`CREATE INDEX enrollments_contact_idx ON enrollments (contact_id) WHERE status = 'active'`);
  }
}
