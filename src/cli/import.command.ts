import { CsvImportService } from '../accounts/csv-import.service';
import { UsageError } from './args';
import type { Command } from './commands';
import { progressBar } from './progress';

export const importCommand: Command = {
  name: 'import',
  usage: 'import accounts|contacts FILE.csv',
  summary: 'import accounts or contacts from CSV (valid rows kept, bad rows reported by line)',
  async run(args, ctx) {
    const [kind, file] = args.positionals;
    if ((kind !== 'accounts' && kind !== 'contacts') || !file) throw new UsageError('usage: touchline import accounts|contacts FILE.csv');
    const app = await ctx.app();
    const bar = progressBar(`importing ${kind}`, (s) => process.stderr.write(s), !!process.stderr.isTTY);
    const report = await app.get(CsvImportService).importFile(kind, file, (bytes, total, rows) => bar.update(bytes, total, `${rows} rows`));
    bar.done();
    for (const w of report.warnings) ctx.err(`warning: ${w}`);
    for (const e of report.errors) ctx.err(`${file}:${e.line}: ${e.message}`);
    ctx.out(`${report.imported} of ${report.rows} rows imported, ${report.errors.length} errors`);
    return report.errors.length ? 1 : 0;
  },
};
