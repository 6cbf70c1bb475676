import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DomainError } from '../common/errors';
import { Config, runsWorkers } from '../config/config';
import { CONFIG } from '../config/config.module';
import { HealthService } from './health.service';

const TICK_MS = 60_000;

/**
 * Workers check every minute whether health is due (the interval has passed since the last
 * recompute, or accounts exist without a score, e.g. just imported) and recompute if so.
 * The "due" test reads the database, so several worker processes do not each recompute, and
 * the advisory lock in the repository stops two from running at once.
 */
@Injectable()
export class HealthScheduler implements OnApplicationBootstrap {
  private readonly log = new Logger('health');
  private running = false;

  constructor(
    private readonly health: HealthService,
    private readonly registry: SchedulerRegistry,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  onApplicationBootstrap(): void {
    if (!runsWorkers(this.config)) return;
    const result = this.health.validate();
    if (!result.ok) this.log.error(`health model is invalid; scores will not be recomputed until it is fixed:\n${result.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
    const timer = setInterval(() => void this.tick(), TICK_MS);
    timer.unref();
    this.registry.addInterval('health-recompute', timer);
    setTimeout(() => void this.tick(), 5_000).unref();
  }

  /** One scheduler step (tests call it directly); returns whether a recompute ran. */
  async tick(): Promise<boolean> {
    if (this.running) return false;
    this.running = true;
    try {
      if (!(await this.health.due())) return false;
      const report = await this.health.recompute({ wait: false });
      if (report) this.log.log(`recomputed health of ${report.accounts} accounts in ${report.durationMs} ms (green ${report.bands.green}, yellow ${report.bands.yellow}, red ${report.bands.red})`);
      return !!report;
    } catch (err) {
      if (err instanceof DomainError) this.log.error(`${err.message}: ${err.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
      else this.log.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      return false;
    } finally {
      this.running = false;
    }
  }
}
