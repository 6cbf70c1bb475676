import { compileConditionSql } from '../../src/conditions/compile-sql';
import { ACCOUNT_REF, CONTACT_REF, SUBJECT_FROM } from '../../src/conditions/conditions.repository';
import { parseCondition } from '../../src/conditions/parse';
import { SqlParams } from '../../src/signals/sql-params';
import { createTestDatabase, TestDatabase } from '../support/db';

/**
 * The compiled predicates over account and contact fields are `(p) IS TRUE`, which the
 * planner estimates from the columns' statistics (a COALESCE(p, false) gets a flat half):
 * a trigger statement then starts from the few accounts of its audience instead of scanning
 * every contact. Predicates over signals, health and traits keep the COALESCE (no
 * statistics; a flat half keeps plans that expect many rows). Their values are the same
 * either way — proved for every condition by sql-vs-memory.property.test.ts.
 */
describe('compiled conditions: planner estimates', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    // 2,000 accounts: one in five in adoption, one in four on growth; nine contacts each, one of them without consent.
    await db.query(
      `INSERT INTO accounts (external_id, name, plan, phase, created_at, updated_at)
       SELECT 'a' || g, 'A' || g, CASE WHEN g % 4 = 0 THEN 'growth' ELSE 'starter' END, CASE WHEN g % 5 = 0 THEN 'adoption' ELSE 'onboarding' END, now(), now()
         FROM generate_series(1, 2000) g`,
    );
    await db.query(
      `INSERT INTO contacts (external_id, account_id, email, consent_marketing, created_at, updated_at)
       SELECT 'c' || g, a.id, 'c' || g || '@x.example', k <> 1, now(), now()
         FROM accounts a, generate_series(1, 9) k, LATERAL (SELECT a.id * 10 + k AS g) x`,
    );
    await db.query('ANALYZE accounts, contacts');
  });
  afterAll(() => db.drop());

  const estimate = async (subject: 'account' | 'contact', text: string) => {
    const params = new SqlParams(['2026-11-20']);
    const where = compileConditionSql(parseCondition(text), subject === 'account' ? ACCOUNT_REF : CONTACT_REF, params, '$1::date');
    const sql = `SELECT 1 FROM ${SUBJECT_FROM[subject]} CROSS JOIN (SELECT $1::date AS today) p WHERE ${where}`;
    const values = params.values;
    const [{ 'QUERY PLAN': plan }] = await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, values);
    const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) q`, values);
    return { where, estimated: plan[0].Plan['Plan Rows'] as number, actual: n };
  };

  it('estimates an audience over account and contact fields from statistics', async () => {
    const accounts = await estimate('account', 'account.phase = adoption and account.plan = growth');
    expect(accounts.where).toMatch(/\(a\.phase = \$\d+::text\) IS TRUE/);
    expect(accounts.actual).toBe(100);
    // A COALESCE would be estimated at a quarter of the 2,000 accounts (500).
    expect(accounts.estimated).toBeGreaterThanOrEqual(50);
    expect(accounts.estimated).toBeLessThanOrEqual(200);

    const contacts = await estimate('contact', 'contact.consent and account.phase = adoption and account.plan in [growth, enterprise]');
    expect(contacts.where).toMatch(/\(c\.consent_marketing = \$\d+::boolean\) IS TRUE/);
    expect(contacts.where).toMatch(/\(a\.plan = ANY\(\$\d+::text\[\]\)\) IS TRUE/);
    expect(contacts.actual).toBe(800);
    // COALESCEs would be estimated at an eighth of the 18,000 contacts (2,250).
    expect(contacts.estimated).toBeGreaterThanOrEqual(400);
    expect(contacts.estimated).toBeLessThanOrEqual(1600);

    const rare = await estimate('contact', 'not contact.consent and account.phase = adoption');
    expect(rare.actual).toBe(400);
    // A COALESCE form would be estimated at a quarter of them all (4,500).
    expect(rare.estimated).toBeGreaterThanOrEqual(200);
    expect(rare.estimated).toBeLessThanOrEqual(800);
  });

  it('keeps COALESCE over signals, health and traits (computed values, no statistics)', () => {
    const params = new SqlParams(['2026-11-20']);
    const where = compileConditionSql(
      parseCondition('count(login, 14d) = 0 and health.score < 50 and account.trait.tier = gold and account.phase = adoption'),
      CONTACT_REF,
      params,
      '$1::date',
    );
    expect(where.match(/COALESCE\(/g)?.length).toBeGreaterThanOrEqual(3);
    expect(where).toMatch(/\(a\.phase = \$\d+::text\) IS TRUE/);
    expect(where).not.toMatch(/count\([^)]*\)[^,]* IS TRUE/);
  });
});
