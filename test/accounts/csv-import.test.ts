import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CsvImportService } from '../../src/accounts/csv-import.service';
import { startTestApp, TestApp } from '../support/app';

describe('CSV import', () => {
  let t: TestApp;
  let svc: CsvImportService;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-csv-'));
  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };

  beforeAll(async () => {
    t = await startTestApp();
    svc = t.app.get(CsvImportService);
  });
  afterAll(() => t.close());

  it('imports valid account rows and reports each bad row by line, keeping the good ones', async () => {
    const csv = file(
      'accounts.csv',
      [
        'external_id,name,plan,mrr,phase,renewal_date,high_touch,industry',
        'a-1,Acme,growth,1200,adoption,2027-03-01,false,retail',
        'a-2,Beta,starter,abc,adoption,,no,',
        'a-3,Gamma,starter,10,teenage,,,',
        ',Nameless,starter,10,adoption,,,',
        'a-5,"Quoted, Inc.",enterprise,99,established,2027-13-45,true,',
        'a-6,Short',
        'a-7,Seven,starter,5,onboarding,,yes,saas',
      ].join('\n') + '\n',
    );
    const report = await svc.importFile('accounts', csv);
    expect(report.errors).toEqual([
      { line: 3, message: 'mrr: expected a number from 0 to 999999999999 (got "abc")' },
      { line: 4, message: 'phase: expected one of onboarding, adoption, established, renewal, churned (got "teenage")' },
      { line: 5, message: 'groupId: must not be empty' },
      { line: 6, message: 'renewalDate: expected a date such as 2026-04-01 (got "2027-13-45")' },
      { line: 7, message: 'expected 8 columns, found 2' },
    ]);
    expect(report.warnings).toEqual(['columns kept as traits: industry']);
    expect(report.rows).toBe(7);
    expect(report.imported).toBe(2);
    const rows = await t.db.query(`SELECT external_id, name, plan, high_touch, traits FROM accounts ORDER BY external_id`);
    expect(rows).toEqual([
      { external_id: 'a-1', name: 'Acme', plan: 'growth', high_touch: false, traits: { industry: 'retail' } },
      { external_id: 'a-7', name: 'Seven', plan: 'starter', high_touch: true, traits: { industry: 'saas' } },
    ]);
  });

  it('imports contacts linked to accounts; a row with a bad field writes nothing at all', async () => {
    const csv = file(
      'contacts.csv',
      ['external_id,account,email,name,role,consent,timezone', 'c-1,a-1,KEN@acme.test,Ken,admin,yes,Asia/Tokyo', 'c-2,a-1,bad-email,Bad,member,no,', 'c-3,a-1,c3@acme.test,Three,member,maybe,'].join('\n'),
    );
    const report = await svc.importFile('contacts', csv);
    expect(report.errors).toEqual([
      { line: 3, message: 'email: "bad-email" is not an email address' },
      { line: 4, message: 'consent.marketing: expected true or false' },
    ]);
    const rows = await t.db.query(`SELECT c.external_id, c.email, c.consent_marketing, a.external_id AS account FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id ORDER BY 1`);
    expect(rows).toEqual([{ external_id: 'c-1', email: 'ken@acme.test', consent_marketing: true, account: 'a-1' }]);
  });

  it('re-importing the same file changes nothing', async () => {
    const csv = file('again.csv', 'external_id,name\na-1,Acme\n');
    const first = await svc.importFile('accounts', csv);
    const second = await svc.importFile('accounts', csv);
    expect(first.imported).toBe(1);
    expect(second.unchangedMessages).toBe(1);
  });

  it('refuses a file without an external_id column, naming the header line', async () => {
    const report = await svc.importFile('accounts', file('nohdr.csv', 'name,plan\nAcme,growth\n'));
    expect(report.errors).toEqual([{ line: 1, message: 'the header needs an external_id column (found: name, plan)' }]);
  });

  it('reports a broken quote with its line and keeps the rows before it', async () => {
    const report = await svc.importFile('accounts', file('broken.csv', 'external_id,name\nb-1,Fine\nb-2,"Unclosed\n'));
    expect(report.imported).toBe(1);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0].message).toMatch(/^the CSV cannot be read past this line/);
    expect(await t.db.query(`SELECT 1 FROM accounts WHERE external_id = 'b-1'`)).toHaveLength(1);
  });
});
