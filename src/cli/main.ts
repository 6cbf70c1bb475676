import 'reflect-metadata';
import { ConfigError, processEnv } from '../config/config';
import { parseArgs, UsageError } from './args';
import { commands } from './commands';
import { createCliContext } from './context';

/** `npx touchline <command>`: returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = processEnv()): Promise<number> {
  const out = (l: string) => process.stdout.write(l + '\n');
  const err = (l: string) => process.stderr.write(l + '\n');
  const [name, ...rest] = argv;
  const command = commands.find((c) => c.name === name);
  if (!command || name === 'help' || name === '--help') {
    out('usage: touchline <command>\n');
    for (const c of commands) out(`  ${c.usage.padEnd(52)} ${c.summary}`);
    return command || !name || name === 'help' || name === '--help' ? 0 : 64;
  }
  const ctx = createCliContext(env, { out, err });
  try {
    return await command.run(parseArgs(rest), ctx);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      err(e.message);
      return e instanceof UsageError ? 64 : 78;
    }
    err(`touchline ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    await ctx.close();
  }
}
