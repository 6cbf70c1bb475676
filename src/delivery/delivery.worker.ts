import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CONFIG } from '../config/config.module';
import { Config, runsWorkers } from '../config/config';
import { Dispatcher } from './dispatcher';
import { MailTransport } from './mail-transport';

/**
 * Runs the dispatcher loop in worker processes (role all|worker): a full batch is followed
 * at once by the next, an empty or paused round waits DELIVERY_POLL_INTERVAL. Shutdown lets
 * the batch in hand finish (its outcomes recorded) before the transport closes.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Delivery');
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly transport: MailTransport,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  onApplicationBootstrap(): void {
    if (!runsWorkers(this.config)) return;
    this.log.log(`dispatcher ${this.dispatcher.worker} started (${this.transport.kind === 'smtp' ? 'SMTP' : `files under ${this.config.smtp.mailDir}`})`);
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.transport.close();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let idle = true;
      try {
        const r = await this.dispatcher.tick({ more: () => !this.stopping });
        idle = !!r.paused || r.claimed === 0;
      } catch (err) {
        this.log.error(`dispatcher round failed: ${(err as Error).stack ?? err}`);
      }
      if (idle && !this.stopping) await this.sleep(this.config.delivery.pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }
}
