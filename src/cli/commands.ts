import type { Args } from './args';
import type { CliContext } from './context';
import { demoCommand } from './demo.command';
import { importCommand } from './import.command';
import { sendingHealthCommand } from './sending-health.command';
import { keysCommand, migrateCommand, serveCommand } from './service.commands';

export interface Command {
  /** `touchline <name> ...` */
  name: string;
  usage: string;
  summary: string;
  run(args: Args, ctx: CliContext): Promise<number>;
}

/** Every CLI command; each capability adds its own here. */
export const commands: Command[] = [serveCommand, migrateCommand, keysCommand, importCommand, demoCommand, sendingHealthCommand];
