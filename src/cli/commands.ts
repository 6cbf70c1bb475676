import type { Args } from './args';
import type { CliContext } from './context';
import { demoCommand } from './demo.command';
import { healthCommand } from './health.command';
import { importCommand } from './import.command';
import { sendingHealthCommand } from './sending-health.command';
import { journeysCommand, segmentsCommand } from './journeys.command';
import { keysCommand, migrateCommand, serveCommand } from './service.commands';
import { templatesCommand } from './templates.command';

export interface Command {
  /** `touchline <name> ...` */
  name: string;
  usage: string;
  summary: string;
  run(args: Args, ctx: CliContext): Promise<number>;
}

/** Every CLI command; each capability adds its own here. */
export const commands: Command[] = [
  serveCommand,
  migrateCommand,
  keysCommand,
  importCommand,
  demoCommand,
  journeysCommand,
  segmentsCommand,
  templatesCommand,
  healthCommand,
  sendingHealthCommand,
];
