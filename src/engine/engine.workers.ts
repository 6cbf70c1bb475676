import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Config } from '../config/config';
import { runsWorkers } from '../config/config';
import { CONFIG } from '../config/config.module';
import { IngestionNotifier } from '../ingestion/ingestion.notifier';
import { HandoffWebhooksService } from './handoff-webhooks';
import { JourneyVersionsService } from './journey-versions.service';
import { StepRunnerService } from './step-runner.service';
import { TriggersService } from './triggers.service';

/**
 * The engine's scheduled loops. They start only when this process runs workers
 * (TOUCHLINE_ROLE all or worker); tests call the services' methods directly. Each loop
 * never overlaps itself, and a failing pass is logged and retried at the next tick.
 */
@Injectable()
export class EngineWorkers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('EngineWorkers');
  private readonly running = new Map<string, Promise<unknown>>();
  private stopped = false;
  private unsubscribe?: () => void;

  constructor(
    private readonly scheduler: SchedulerRegistry,
    private readonly steps: StepRunnerService,
    private readonly triggers: TriggersService,
    private readonly versions: JourneyVersionsService,
    private readonly webhooks: HandoffWebhooksService,
    private readonly notifier: IngestionNotifier,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!runsWorkers(this.config)) return;
    if (this.config.engine.syncOnStart) await this.run('reload', () => this.versions.reload());
    const e = this.config.engine;
    this.every('engine-steps', e.tickMs, () => this.steps.drain(50, () => this.stopped));
    this.every('engine-events', e.tickMs, () => this.triggers.processEvents());
    this.every('engine-triggers', e.triggerIntervalMs, () => this.triggers.tick());
    this.every('engine-handoff-webhooks', Math.max(e.tickMs, 5000), () => this.webhooks.deliverDue());
    // Ingested events make event triggers run now rather than at the next tick.
    this.unsubscribe = this.notifier.subscribe(() => void this.run('engine-events', () => this.triggers.processEvents()));
    void this.run('engine-triggers', () => this.triggers.tick());
    this.log.log(`engine workers started (${this.steps.workerId})`);
  }

  /** SIGHUP and `journeys reload` land here in a running service. */
  reload(): Promise<unknown> {
    return this.run('reload', () => this.versions.reload());
  }

  private every(name: string, ms: number, work: () => Promise<unknown>): void {
    const timer = setInterval(() => void this.run(name, work), ms);
    this.scheduler.addInterval(name, timer);
  }

  private run(name: string, work: () => Promise<unknown>): Promise<unknown> {
    if (this.stopped) return Promise.resolve();
    const busy = this.running.get(name);
    if (busy) return busy;
    const p = work()
      .catch((err) => this.log.error(`${name} failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => this.running.delete(name));
    this.running.set(name, p);
    return p;
  }

  /**
   * At the start of shutdown (with the dispatcher's own hook): no new pass starts, a drain
   * stops after its current batch, and in-flight passes finish before the pool closes.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const name of ['engine-steps', 'engine-events', 'engine-triggers', 'engine-handoff-webhooks']) {
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    }
    // Let in-flight passes finish (they are short transactions) before the pool closes.
    await Promise.allSettled([...this.running.values()]);
  }
}
