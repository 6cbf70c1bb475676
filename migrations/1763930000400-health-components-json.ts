import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The components of account_health and health_snapshots are stored as `json` (the text the
 * recompute builds, checked for syntax) instead of `jsonb`. Nothing queries inside them: they
 * are read whole (API, console) and parsed by the client either way. Parsing 100,000
 * components' texts into jsonb was about 40% of the recompute's JSON step (1.5 s of CPU per
 * run on the benchmark's 100,000 accounts). Readers see the same keys and numbers; the keys now
 * come in the model's order (jsonb sorted them by length). json has no equality operator:
 * comparisons go through `::text`.
 */
export class HealthComponentsJson1763930000400 implements MigrationInterface {
  name = 'HealthComponentsJson1763930000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE account_health ALTER COLUMN components DROP DEFAULT`);
    await q.query(`ALTER TABLE account_health ALTER COLUMN components TYPE json USING components::json`);
    await q.query(`ALTER TABLE account_health ALTER COLUMN components SET DEFAULT '{}'::json`);
    await q.query(`ALTER TABLE health_snapshots ALTER COLUMN components TYPE json USING components::json`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE health_snapshots ALTER COLUMN components TYPE jsonb USING components::jsonb`);
    await q.query(`ALTER TABLE account_health ALTER COLUMN components DROP DEFAULT`);
    await q.query(`ALTER TABLE account_health ALTER COLUMN components TYPE jsonb USING components::jsonb`);
    await q.query(`ALTER TABLE account_health ALTER COLUMN components SET DEFAULT '{}'::jsonb`);
  }
}
