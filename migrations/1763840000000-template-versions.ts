import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every template version ever compiled or rendered, by content hash, with the exact sources
 * it was built from: messages.template_version points here, so the console can re-render an
 * old message exactly even after the files changed.
 */
export class TemplateVersions1763840000000 implements MigrationInterface {
  name = 'TemplateVersions1763840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE template_versions (
        version    text PRIMARY KEY,
        template   text NOT NULL,
        category   text NOT NULL CHECK (category IN ('marketing','operational')),
        locales    text[] NOT NULL,
        sources    jsonb NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX template_versions_template_idx ON template_versions (template, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE template_versions`);
  }
}
