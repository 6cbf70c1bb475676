import { SendingHealthService } from '../tracking/sending-health.service';
import { UsageError } from './args';
import type { Command } from './commands';

/** `touchline sending-health [--resume marketing|all]`: the complaint-rate guard, from a shell. */
export const sendingHealthCommand: Command = {
  name: 'sending-health',
  usage: 'sending-health [--resume marketing|all]',
  summary: 'show the 7-day complaint rate and sending pauses (checks and pauses when over the threshold)',
  async run(args, ctx) {
    const app = await ctx.app();
    const health = app.get(SendingHealthService);
    const resume = args.options.resume;
    if (resume !== undefined) {
      if (resume !== 'marketing' && resume !== 'all') throw new UsageError('--resume expects marketing or all');
      await health.resume(resume);
      ctx.out(`${resume} sending resumed`);
      return 0;
    }
    const r = await health.check();
    const c = r.complaintRate;
    ctx.out(
      `complaints ${c.complaints} / sent ${c.sent} over ${c.windowDays} days = ${(c.rate * 100).toFixed(3)}% ` +
        `(threshold ${(c.threshold * 100).toFixed(2)}%${c.judged ? '' : `, not judged below ${c.minSent} sends`})`,
    );
    if (r.pausedNow) ctx.out('marketing sending is now PAUSED by this check');
    for (const p of r.pauses) ctx.out(`paused: ${p.kind} since ${p.createdAt} (${p.reason})`);
    if (!r.pauses.length) ctx.out('no sending pauses in force');
    return r.pauses.length ? 2 : 0;
  },
};
