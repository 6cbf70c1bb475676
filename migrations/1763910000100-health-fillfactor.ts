import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Room on each page of account_health for the next version of its rows: every recompute
 * updates every account's row, and a score that did not move (most of them between two
 * recomputes) can then be a heap-only update — no new entries in the table's three indexes.
 * Applies to pages written from now on; existing rows move into such pages as they update.
 */
export class HealthFillfactor1763910000100 implements MigrationInterface {
  name = 'HealthFillfactor1763910000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE account_health SET (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE account_health RESET (fillfactor)`);
  }
}
