import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { Clock, SystemClock } from '../common/clock';
import { Config, loadConfig } from '../config/config';
import { DatabaseRuntime, openDatabase } from '../database/database-runtime';

export interface CliContext {
  config: Config;
  clock: Clock;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Boots the database and a Nest context without HTTP or workers; closed by the runner. */
  app(): Promise<INestApplicationContext>;
  database(): Promise<DatabaseRuntime>;
  close(): Promise<void>;
}

export function createCliContext(env: NodeJS.ProcessEnv, io: { out: (l: string) => void; err: (l: string) => void }): CliContext {
  let config: Config | undefined;
  let db: DatabaseRuntime | undefined;
  let app: INestApplicationContext | undefined;
  const clock = new SystemClock();
  const ctx: CliContext = {
    get config() {
      // The CLI never runs workers, whatever the role of the service is.
      config ??= { ...loadConfig(env), role: 'api', logLevel: 'warn' };
      return config;
    },
    clock,
    out: io.out,
    err: io.err,
    async database() {
      db ??= await openDatabase(ctx.config, (m) => io.err(m));
      return db;
    },
    async app() {
      if (!app) {
        const { url } = await ctx.database();
        app = await NestFactory.createApplicationContext(AppModule.forRoot({ config: ctx.config, clock, databaseUrl: url }), { logger: ['error', 'warn'] });
      }
      return app;
    },
    async close() {
      await app?.close();
      await db?.close();
    },
  };
  return ctx;
}
