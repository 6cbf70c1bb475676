import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Config, runsWorkers } from '../config/config';
import { CONFIG } from '../config/config.module';
import { ConsoleSummariesRepository, SUMMARIES } from './console-summaries.repository';

/**
 * Refreshes the console's summaries every CONSOLE_REFRESH_SECONDS on worker processes.
 * Several workers may run: a refresh that finds another in progress simply waits for it.
 */
@Injectable()
export class ConsoleSummariesWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ConsoleSummaries');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly repo: ConsoleSummariesRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (!runsWorkers(this.config)) return;
    const tick = () => void this.refresh().catch((err) => this.logger.error({ err }, 'console summaries refresh failed'));
    this.timer = setInterval(tick, this.config.console.refreshSeconds * 1000);
    this.timer.unref();
    setTimeout(tick, 1000).unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass over every summary; returns how long each took (ms). */
  async refresh(): Promise<Record<string, number>> {
    if (this.running) return {};
    this.running = true;
    try {
      const took: Record<string, number> = {};
      for (const name of SUMMARIES) took[name] = await this.repo.refresh(name, this.clock.now(), () => this.clock.now());
      return took;
    } finally {
      this.running = false;
    }
  }
}
