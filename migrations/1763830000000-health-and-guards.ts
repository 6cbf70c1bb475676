import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Shared by health scoring (writes), the condition language and console (read), and the
 * sending guards that pause a category of mail (delivery reads, tracking and delivery write).
 */
export class HealthAndGuards1763830000000 implements MigrationInterface {
  name = 'HealthAndGuards1763830000000';

  async up(q: QueryRunner): Promise<void> {
    // The latest health of each account; dated snapshots with components live beside it.
    await q.query(`
      CREATE TABLE account_health (
        account_id      bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        score           numeric(5,2) NOT NULL,
        band            text NOT NULL CHECK (band IN ('green','yellow','red')),
        previous_score  numeric(5,2),
        previous_band   text CHECK (previous_band IN ('green','yellow','red')),
        band_changed_at timestamptz,
        components      jsonb NOT NULL DEFAULT '{}'::jsonb,
        computed_at     timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX account_health_band_idx ON account_health (band, score)`);

    // A row here pauses sending of a kind of mail ('marketing' or 'all') until it is removed.
    await q.query(`
      CREATE TABLE sending_pauses (
        kind       text PRIMARY KEY CHECK (kind IN ('marketing','all')),
        reason     text NOT NULL,
        details    jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sending_pauses, account_health`);
  }
}
