import { DemoService } from '../demo/demo.service';
import { intOption, UsageError } from './args';
import type { Command } from './commands';
import { progressBar } from './progress';

export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo seed [--accounts N] [--days 60] [--seed 42]',
  summary: 'generate realistic demo accounts, contacts and usage',
  async run(args, ctx) {
    if (args.positionals[0] !== 'seed') throw new UsageError('usage: touchline demo seed [--accounts N] [--days 60] [--seed 42]');
    const accounts = intOption(args, 'accounts', 200);
    const app = await ctx.app();
    const bar = progressBar('seeding', (s) => process.stderr.write(s), !!process.stderr.isTTY);
    const started = Date.now();
    const report = await app.get(DemoService).seed(
      { accounts, days: intOption(args, 'days', 60), seed: intOption(args, 'seed', 42) },
      (done, total) => bar.update(done, total, `${done} accounts`),
    );
    bar.done();
    ctx.out(`seeded ${report.accounts} accounts and ${report.messages} messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    ctx.out(`usage patterns: ${Object.entries(report.patterns).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return 0;
  },
};
