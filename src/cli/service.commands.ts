import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Command } from './commands';

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve',
  summary: 'run the service (same as npm start)',
  run: () =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(__dirname, '..', 'main.js')], { stdio: 'inherit' });
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
      child.on('exit', (code) => resolve(code ?? 1));
    }),
};

export const migrateCommand: Command = {
  name: 'migrate',
  usage: 'migrate',
  summary: 'apply pending database migrations',
  async run(_args, ctx) {
    const db = await ctx.database();
    ctx.out(db.migrationsApplied.length ? `applied: ${db.migrationsApplied.join(', ')}` : 'the database is up to date');
    return 0;
  },
};

export const keysCommand: Command = {
  name: 'keys',
  usage: 'keys',
  summary: 'print the API keys of each scope (from DATA_DIR/secrets.json or the environment)',
  async run(_args, ctx) {
    for (const [scope, key] of Object.entries(ctx.config.secrets.apiKeys)) ctx.out(`${scope.padEnd(7)} ${key}`);
    return 0;
  },
};
