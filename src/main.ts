import 'reflect-metadata';
import { createApp } from './app';
import { clockFrom } from './common/clock';
import { Config, ConfigError, loadConfig, processEnv, servesHttp } from './config/config';
import { openDatabase } from './database/database-runtime';
import { DemoService } from './demo/demo.service';
import { AccountsRepository } from './accounts/accounts.repository';
import { JourneyVersionsService } from './engine/journey-versions.service';

const say = (msg: string) => process.stdout.write(`[touchline] ${msg}\n`);

/** `npm start`: database (embedded unless DATABASE_URL), migrations, then API + workers. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(processEnv());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  if (config.secrets.created) say(`generated API keys and signing secrets into ${config.secrets.file} (keep this file private)`);
  const db = await openDatabase(config, say);
  const clock = clockFrom(config.clock);
  if (config.clock.mode === 'scaled') say(`VIRTUAL CLOCK (CLOCK=scaled): ${clock.now().toISOString()} running at ${config.clock.speed}x real time — not for production`);
  const app = await createApp({ config, clock, databaseUrl: db.url });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) {
      say(`${signal} again: exiting now`);
      process.exit(1);
    }
    closing = true;
    say(`${signal}: finishing in-flight work and stopping`);
    try {
      await app.close();
      await db.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // SIGHUP: store the journey files as versions now (same as `touchline journeys reload`).
  process.on('SIGHUP', () => void app.get(JourneyVersionsService).reload().catch((e) => say(`journey reload failed: ${e instanceof Error ? e.message : String(e)}`)));

  if (servesHttp(config)) await app.listen(config.port, config.host);
  else await app.init();

  if (db.embedded && config.demo.seed && (await app.get(AccountsRepository).counts()).accounts === 0) {
    say(`empty embedded database: seeding ${config.demo.accounts} demo accounts (DEMO_SEED=false to skip)`);
    const report = await app.get(DemoService).seed({ accounts: config.demo.accounts });
    say(`demo data ready: ${report.accounts} accounts, ${report.messages} messages`);
  }
  say(`Touchline is running (role: ${config.role})${servesHttp(config) ? ` at ${config.publicUrl} — API docs ${config.publicUrl}/docs` : ''}`);
  say(`API keys: ${config.secrets.file} (or: npx touchline keys)`);
  if (servesHttp(config)) say(`CS console: ${config.publicUrl}/console — sign in with the review key (npx touchline keys)`);
}

main().catch((err) => {
  process.stderr.write(`[touchline] failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
