import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The account timeline shows journey entries and steps of every enrollment of an account,
 * ended ones included; the engine's own account index covers active enrollments only.
 */
export class ConsoleEnrollments1763900000002 implements MigrationInterface {
  name = 'ConsoleEnrollments1763900000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX enrollments_account_entered_idx ON enrollments (account_id, entered_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX enrollments_account_entered_idx`);
  }
}
