import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CsvImportService } from '../../src/accounts/csv-import.service';
import { startTestApp, TestApp } from '../support/app';

/**
 * CSV imports under generated files: valid and invalid values in every column, quotes,
 * commas, unicode, NUL, short and long rows. The import never throws; every error names a
 * line of the file; a rejected row is never written, not even in part (for contacts: neither
 * the contact nor its account membership), and every accepted row is in the database.
 */
const cell = (s: string) => (/[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s);
const hostile = fc.oneof(fc.string({ maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, ' ')), fc.constantFrom('', 'Acme, Inc.', 'say "hi"', "O'Brien", '日本語', '🙂', '<script>alert(1)</script>', "'; DROP TABLE accounts; --", 'a\u0000b', ' padded '));
const pick = <T>(good: T[], bad: T[]) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constantFrom(...bad) });

const accountRow = fc.record({
  name: hostile,
  plan: pick(['starter', 'growth', ''], ['x'.repeat(300)]),
  mrr: pick(['0', '10', '1200.5', ''], ['abc', '-1', '1e400', 'NaN']),
  phase: pick(['onboarding', 'adoption', 'established', 'renewal', 'churned', ''], ['teenage', 'ADOPTION ']),
  renewal_date: pick(['2027-03-01', ''], ['2027-13-45', 'tomorrow', '0000-00-00']),
  high_touch: pick(['yes', 'no', 'true', 'false', ''], ['maybe', '2']),
  seats: pick(['1', '50', ''], ['-3', '1.5', 'many']),
  timezone: pick(['Asia/Tokyo', 'UTC', ''], ['Mars/Base', 'GMT+25']),
  industry: hostile,
});
const contactRow = fc.record({
  account: fc.oneof(fc.constantFrom('', 'fz-acct-1', 'fz-acct-2'), hostile),
  email: pick(['a@example.com', 'B.c@Example.org', ''], ['not-an-address', 'a@', '@b.com', 'a@b@c']),
  name: hostile,
  role: pick(['admin', 'member', ''], ['x'.repeat(300)]),
  locale: pick(['ja', 'en', ''], ['klingon-xx-yy-zz']),
  consent: pick(['yes', 'no', ''], ['perhaps']),
  timezone: pick(['Asia/Tokyo', ''], ['Nowhere/Land']),
});
const rowShape = fc.constantFrom('ok', 'ok', 'ok', 'ok', 'short', 'long', 'no-id');

describe('CSV import under generated files', () => {
  let t: TestApp;
  let svc: CsvImportService;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-csv-fuzz-'));
  let seq = 0;
  beforeAll(async () => {
    t = await startTestApp();
    svc = t.app.get(CsvImportService);
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function run(kind: 'accounts' | 'contacts', header: string[], rows: { values: string[]; shape: string }[]) {
    const file = path.join(dir, `${kind}-${++seq}.csv`);
    const ids = rows.map((_, i) => `fz-${kind}-${seq}-${i}`);
    const lines = rows.map((r, i) => {
      const values = [r.shape === 'no-id' ? '' : ids[i], ...r.values];
      const cut = r.shape === 'short' ? values.slice(0, 2) : r.shape === 'long' ? [...values, 'extra'] : values;
      return cut.map(cell).join(',');
    });
    const text = [header.join(','), ...lines].join('\n') + '\n';
    fs.writeFileSync(file, text);
    let report;
    try {
      report = await svc.importFile(kind, file);
    } catch (e) {
      throw new Error(`import threw ${(e as Error).stack}\n${text}`);
    }
    const total = text.split('\n').length;
    for (const e of report.errors) if (!Number.isInteger(e.line) || e.line < 1 || e.line > total || !e.message) throw new Error(`error without a line: ${JSON.stringify(e)}\n${text}`);
    const badLines = new Set(report.errors.map((e) => e.line));
    const table = kind === 'accounts' ? 'accounts' : 'contacts';
    const written = new Set((await t.db.query<{ external_id: string }>(`SELECT external_id FROM ${table} WHERE external_id = ANY($1)`, [ids])).map((r) => r.external_id));
    const members = kind === 'contacts' ? new Set((await t.db.query<{ external_id: string }>(`SELECT c.external_id FROM account_contacts m JOIN contacts c ON c.id = m.contact_id WHERE c.external_id = ANY($1)`, [ids])).map((r) => r.external_id)) : new Set<string>();
    rows.forEach((r, i) => {
      const line = i + 2;
      const rejected = badLines.has(line);
      if (rejected && (written.has(ids[i]) || members.has(ids[i]))) throw new Error(`rejected row at line ${line} was written: ${lines[i]}\n${JSON.stringify(report.errors)}`);
      if (!rejected && r.shape === 'ok' && !written.has(ids[i])) throw new Error(`accepted row at line ${line} is not in ${table}: ${lines[i]}\n${JSON.stringify(report)}`);
      if (r.shape !== 'ok' && !rejected) throw new Error(`a ${r.shape} row at line ${line} was not reported: ${lines[i]}`);
    });
    if (report.imported + new Set([...badLines].filter((l) => l >= 2)).size !== rows.length) throw new Error(`counts do not add up: ${JSON.stringify(report)}\n${text}`);
  }

  it('accounts: every bad row named by line and never written', async () => {
    const header = ['external_id', 'name', 'plan', 'mrr', 'phase', 'renewal_date', 'high_touch', 'seats', 'timezone', 'industry'];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ row: accountRow, shape: rowShape }), { minLength: 1, maxLength: 8 }), async (rows) => {
        await run('accounts', header, rows.map(({ row, shape }) => ({ shape, values: [row.name, row.plan, row.mrr, row.phase, row.renewal_date, row.high_touch, row.seats, row.timezone, row.industry] })));
      }),
      { numRuns: 250 },
    );
  }, 300_000);

  it('contacts: a row whose identify or group part is bad writes neither', async () => {
    const header = ['external_id', 'account_external_id', 'email', 'name', 'role', 'locale', 'consent', 'timezone'];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ row: contactRow, shape: rowShape }), { minLength: 1, maxLength: 8 }), async (rows) => {
        await run('contacts', header, rows.map(({ row, shape }) => ({ shape, values: [row.account, row.email, row.name, row.role, row.locale, row.consent, row.timezone] })));
      }),
      { numRuns: 250 },
    );
  }, 300_000);
});
