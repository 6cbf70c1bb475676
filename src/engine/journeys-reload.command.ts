import { UsageError } from '../cli/args';
import type { Command } from '../cli/commands';
import { JourneyVersionsService } from './journey-versions.service';

/**
 * `touchline journeys reload`: validates the journey files and stores them as versions in
 * the database; running services pick the new versions up at their next tick (a running
 * service also reloads on SIGHUP). Exit code 1 when any file had problems.
 */
export const journeysReloadCommand: Command = {
  name: 'journeys',
  usage: 'journeys reload',
  summary: 'store the journey files as versions (running enrollments keep theirs)',
  async run(args, ctx) {
    if (args.positionals[0] !== 'reload') throw new UsageError('usage: touchline journeys reload');
    const app = await ctx.app();
    const r = await app.get(JourneyVersionsService).reload();
    for (const p of r.problems) ctx.err(p);
    for (const k of r.added) ctx.out(`added     ${k} (version 1)`);
    for (const u of r.updated) ctx.out(`updated   ${u.key} → version ${u.version} (running enrollments stay on their version)`);
    for (const k of r.unchanged) ctx.out(`unchanged ${k}`);
    for (const k of r.paused) ctx.out(`paused    ${k} (no entries, no sends; enrollments kept)`);
    for (const a of r.archived) ctx.out(`archived  ${a.key} (file removed; ${a.endedEnrollments} running enrollments ended)`);
    for (const k of r.keptInvalid) ctx.out(`kept      ${k} (its file is invalid or missing: the last valid version keeps running)`);
    return r.problems.length ? 1 : 0;
  },
};
