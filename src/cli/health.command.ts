import * as fs from 'node:fs';
import * as path from 'node:path';
import { DomainError } from '../common/errors';
import { displayPath, formatProblems, parseHealthFile } from '../health/health-file';
import { HealthService } from '../health/health.service';
import { UsageError } from './args';
import type { Command } from './commands';

const USAGE = 'usage: touchline health validate [FILE] | touchline health recompute';

export const healthCommand: Command = {
  name: 'health',
  usage: 'health validate [FILE] | health recompute',
  summary: 'check health.yaml (file:line:col errors), or recompute every account’s health score now',
  async run(args, ctx) {
    const [sub, file] = args.positionals;
    if (sub === 'validate') {
      // No database needed: authors run this in CI and editors.
      const target = path.resolve(file ?? ctx.config.health.modelFile);
      const shown = displayPath(target);
      let text: string;
      try {
        text = fs.readFileSync(target, 'utf8');
      } catch (err) {
        ctx.err(`${shown}: cannot read the health model: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        return 1;
      }
      const result = parseHealthFile(shown, text);
      if (!result.ok) {
        ctx.err(formatProblems(result.problems));
        return 1;
      }
      const m = result.model;
      ctx.out(`${shown}: ok — ${m.components.length} components (${m.components.map((c) => `${c.name} ${c.weight}`).join(', ')}), bands green ≥ ${m.bands.green}, yellow ≥ ${m.bands.yellow}, profiles: ${Object.keys(m.profiles).join(', ') || 'none'}`);
      return 0;
    }
    if (sub === 'recompute') {
      const app = await ctx.app();
      try {
        const r = await app.get(HealthService).recompute({ wait: true });
        if (!r) return 1;
        ctx.out(`recomputed health of ${r.accounts} accounts for ${r.day} in ${r.durationMs} ms: green ${r.bands.green}, yellow ${r.bands.yellow}, red ${r.bands.red}`);
        return 0;
      } catch (err) {
        if (err instanceof DomainError && err.problems.length) {
          ctx.err(`${err.message}:\n${formatProblems(err.problems)}`);
          return 1;
        }
        throw err;
      }
    }
    throw new UsageError(USAGE);
  },
};
