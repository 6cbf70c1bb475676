import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock';
import { NotFound } from '../common/errors';
import { Config, runsWorkers } from '../config/config';
import { CONFIG } from '../config/config.module';
import { BouncesRepository } from './bounces.repository';
import { COMPLAINT_WINDOW_DAYS, ComplaintJudgement, judgeComplaintRate } from './sending-health';

export interface SendingHealthReport {
  complaintRate: ComplaintJudgement;
  pauses: Array<{ kind: string; reason: string; details: Record<string, unknown>; createdAt: string }>;
  /** True when this check inserted the pause. */
  pausedNow: boolean;
}

const CHECK_EVERY_MS = 5 * 60_000;

/**
 * The sending-health guard: when complaints over the last 7 days pass the configured rate,
 * marketing mail is paused (a `sending_pauses` row, which the dispatcher honours) with the
 * figures, and a warning is logged. Checked after every complaint and every five minutes
 * on worker processes; a person resumes sending (API or CLI) after looking into it.
 */
@Injectable()
export class SendingHealthService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SendingHealth');
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly repo: BouncesRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (!runsWorkers(this.config)) return;
    this.timer = setInterval(() => void this.check().catch((err) => this.logger.error({ err }, 'sending-health check failed')), CHECK_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async check(): Promise<SendingHealthReport> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - COMPLAINT_WINDOW_DAYS * 86_400_000);
    const judgement = judgeComplaintRate(await this.repo.complaintFigures(since, now), this.config.tracking.complaintRateThreshold, this.config.tracking.complaintMinSent);
    let pausedNow = false;
    if (judgement.breached) {
      pausedNow = await this.repo.pause('marketing', 'complaint_rate', { ...judgement, since: since.toISOString(), checkedAt: now.toISOString() }, now);
      if (pausedNow) {
        this.logger.warn(
          { complaints: judgement.complaints, sent: judgement.sent, rate: judgement.rate, threshold: judgement.threshold },
          `marketing mail paused: complaint rate ${(judgement.rate * 100).toFixed(2)}% over ${COMPLAINT_WINDOW_DAYS} days exceeds ${(judgement.threshold * 100).toFixed(2)}%`,
        );
      }
    }
    return { complaintRate: judgement, pauses: await this.pauses(), pausedNow };
  }

  async pauses(): Promise<SendingHealthReport['pauses']> {
    return (await this.repo.pauses()).map((p) => ({ kind: p.kind, reason: p.reason, details: p.details, createdAt: new Date(p.created_at).toISOString() }));
  }

  async resume(kind: string): Promise<{ resumed: string }> {
    if (!(await this.repo.resume(kind))) throw new NotFound(`no ${kind} sending pause is in force`);
    this.logger.warn(`${kind} sending resumed by an operator`);
    return { resumed: kind };
  }
}
