import * as path from 'node:path';
import { z } from 'zod';
import { loadJourneyFiles, templateNamesIn } from '../journeys/journey-files';
import { journeyFileSchema, segmentFileSchema } from '../journeys/journey.schema';
import { JourneysService } from '../journeys/journeys.service';
import { formatReport } from '../journeys/simulate-report';
import { formatProblem } from '../journeys/yaml-source';
import { journeysReloadCommand } from '../engine/journeys-reload.command';
import { Args, intOption, UsageError } from './args';
import type { Command } from './commands';
import type { CliContext } from './context';

const USAGE = `usage:
  touchline journeys validate [PATH...] [--offline]
  touchline journeys simulate KEY --days N [--as-of DATE] [--contact ID] [--json]
  touchline journeys schema [--segment]
  touchline journeys reload`;

export const journeysCommand: Command = {
  name: 'journeys',
  usage: 'journeys validate|simulate|schema|reload …',
  summary: 'validate journey files, dry-run a journey, print the JSON Schema, store them as versions (reload)',
  async run(args, ctx) {
    const [sub, ...rest] = args.positionals;
    if (sub === 'validate') return validate(rest, args, ctx);
    if (sub === 'simulate') return simulate(rest, args, ctx);
    if (sub === 'reload') return journeysReloadCommand.run(args, ctx);
    if (sub === 'schema') {
      ctx.out(JSON.stringify(jsonSchema(args.options.segment ? 'segment' : 'journey'), null, 2));
      return 0;
    }
    throw new UsageError(USAGE);
  },
};

/** The published JSON Schema, generated from the zod schema the validator uses. */
export function jsonSchema(kind: 'journey' | 'segment'): object {
  const schema = z.toJSONSchema(kind === 'journey' ? journeyFileSchema : segmentFileSchema, { io: 'input', unrepresentable: 'any' });
  return { ...schema, title: kind === 'journey' ? 'Touchline journey' : 'Touchline segment' };
}

async function validate(paths: string[], args: Args, ctx: CliContext): Promise<number> {
  let result;
  let templatesChecked: boolean;
  let eventsChecked = true;
  if (args.options.offline) {
    // No database: event names are not checked; templates are read from the directory.
    const names = templateNamesIn(ctx.config.templatesDir);
    templatesChecked = names.size > 0;
    eventsChecked = false;
    result = loadJourneyFiles(ctx.config.journeysDir, { paths, templates: templatesChecked ? names : null, events: null });
  } else {
    const app = await ctx.app();
    const r = await app.get(JourneysService).validate(paths.length ? paths.map((p) => path.resolve(p)) : undefined);
    result = r;
    templatesChecked = r.templatesChecked;
  }
  for (const p of result.problems) ctx.err(formatProblem(p));
  const valid = result.files.filter((f) => f.valid).length;
  if (!templatesChecked) ctx.err(`note: no templates found in ${path.relative(process.cwd(), ctx.config.templatesDir) || '.'}; template names were not checked`);
  if (!eventsChecked) ctx.err('note: --offline: event names were not checked');
  ctx.out(`${result.files.length} file(s): ${valid} valid, ${result.files.length - valid} invalid, ${result.problems.length} problem(s)`);
  return result.problems.length ? 1 : 0;
}

async function simulate(rest: string[], args: Args, ctx: CliContext): Promise<number> {
  const key = rest[0];
  if (!key) throw new UsageError(USAGE);
  const days = intOption(args, 'days', 30);
  if (days < 1 || days > 366) throw new UsageError('--days expects 1 to 366');
  let asOf: Date | undefined;
  if (typeof args.options['as-of'] === 'string') {
    asOf = new Date(/^\d{4}-\d{2}-\d{2}$/.test(args.options['as-of']) ? `${args.options['as-of']}T00:00:00Z` : args.options['as-of']);
    if (Number.isNaN(asOf.getTime())) throw new UsageError(`--as-of expects a date like 2026-11-01 (got ${args.options['as-of']})`);
  }
  const contact = typeof args.options.contact === 'string' ? args.options.contact : undefined;
  const app = await ctx.app();
  const report = await app.get(JourneysService).simulate(key, { days, asOf, contact });
  if (args.options.json) ctx.out(JSON.stringify(report, null, 2));
  else for (const line of formatReport(report)) ctx.out(line);
  return 0;
}

export const segmentsCommand: Command = {
  name: 'segments',
  usage: 'segments count NAME',
  summary: 'how many accounts and contacts a segment matches now',
  async run(args, ctx) {
    const [sub, name] = args.positionals;
    if (sub !== 'count' || !name) throw new UsageError('usage: touchline segments count NAME');
    const app = await ctx.app();
    const r = await app.get(JourneysService).segmentCount(name);
    ctx.out(`${r.segment.name} (${r.segment.subject} segment, as of ${r.asOf}): ${r.accounts} account(s), ${r.contacts} contact(s)`);
    return 0;
  },
};
