import 'reflect-metadata';
import { createApp } from '../../src/app';
import { SystemClock } from '../../src/common/clock';
import { loadConfig } from '../../src/config/config';
import { DispatchRepository } from '../../src/delivery/dispatch.repository';
import { Dispatcher } from '../../src/delivery/dispatcher';
import { SmtpTransport } from '../../src/delivery/mail-transport';
import { RateLimiter } from '../../src/delivery/rate-limiter';
import { RateRepository } from '../../src/delivery/rate.repository';
import { TestRenderer } from './mail';

/**
 * A dispatcher in its own process (crash and fault tests): runs rounds until killed, printing
 * "claimed N" after each claim. Configured by the environment like the service.
 */
async function main() {
  const config = loadConfig(process.env);
  const clock = new SystemClock();
  const app = await createApp({ config, clock, databaseUrl: process.env.DATABASE_URL! });
  await app.init();
  const dispatcher = new Dispatcher(app.get(DispatchRepository), new RateLimiter(app.get(RateRepository), config), new SmtpTransport(config.smtp), new TestRenderer(), clock, config);
  process.stdout.write('ready\n');
  for (;;) {
    // Like the service's DeliveryWorker: a failed round (database restarting) is logged and retried.
    const r = await dispatcher.tick().catch((err: Error) => {
      process.stderr.write(`dispatcher round failed: ${err.message}\n`);
      return { claimed: 0 };
    });
    if (r.claimed) process.stdout.write(`claimed ${r.claimed}\n`);
    else await new Promise((res) => setTimeout(res, 50));
  }
}

main().catch((err) => {
  process.stderr.write(`dispatcher child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
