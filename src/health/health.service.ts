import { Inject, Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import { AccountsRepository } from '../accounts/accounts.repository';
import { Clock, utcDay } from '../common/clock';
import { InvalidInput, NotFound } from '../common/errors';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { displayPath, HealthFileResult, parseHealthFile } from './health-file';
import type { Band, HealthModel } from './health-model';
import { trendOf } from './health-trend';
import { HealthRepository } from './health.repository';

export interface RecomputeReport {
  day: string;
  accounts: number;
  bands: Record<Band, number>;
  snapshotsPruned: number;
  durationMs: number;
  /** Milliseconds per step: scoring, writing current scores, writing snapshots, pruning. */
  phases: { score: number; current: number; snapshots: number; prune: number };
}

@Injectable()
export class HealthService {
  constructor(
    private readonly repo: HealthRepository,
    private readonly accounts: AccountsRepository,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** Reads and checks a model file (the configured one by default); problems name file:line:col. */
  validate(file: string = this.config.health.modelFile): HealthFileResult {
    const shown = displayPath(file);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      return { ok: false, problems: [{ path: shown, message: `cannot read the health model: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }] };
    }
    return parseHealthFile(shown, text);
  }

  /** The model, read afresh each time so an edited health.yaml applies at the next recompute. */
  model(): HealthModel {
    const result = this.validate();
    if (!result.ok) throw new InvalidInput('the health model is invalid', result.problems);
    return result.model;
  }

  /**
   * Scores every account set-based in SQL and writes today's snapshots, over
   * HEALTH_RECOMPUTE_SHARDS connections at once (each a range of accounts). `wait: false` (the
   * scheduler) skips when another process is already recomputing; null then.
   */
  async recompute(options: { wait?: boolean } = {}): Promise<RecomputeReport | null> {
    const model = this.model();
    const now = this.clock.now();
    const day = utcDay(now);
    const started = process.hrtime.bigint();
    const outcome = await this.repo.recompute(model, day, now, this.config.health.snapshotDays, options.wait ?? true, this.config.health.recomputeShards);
    if (!outcome) return null;
    return { day, ...outcome, durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6) };
  }

  /** Whether the scheduler should recompute now: the interval has passed, or an account has no score. */
  async due(): Promise<boolean> {
    const { lastComputedAt, unscored } = await this.repo.status();
    if (unscored || !lastComputedAt) return unscored;
    return this.clock.now().getTime() - lastComputedAt.getTime() >= this.config.health.recomputeMinutes * 60_000;
  }

  /** Current score with its components, the daily history of the last `days` days, and its trend. */
  async accountHealth(externalId: string, days: number) {
    const account = await this.accounts.accountByExternalId(externalId);
    if (!account) throw new NotFound(`no account with external id "${externalId}"`);
    const today = this.clock.now();
    const from = utcDay(new Date(today.getTime() - (days - 1) * 86_400_000));
    const [current, history] = await Promise.all([this.repo.current(account.id), this.repo.history(account.id, from)]);
    const points = history.map((h) => ({ day: h.day, score: Number(h.score), band: h.band, profile: h.profile, components: h.components }));
    return {
      account: { externalId: account.external_id, name: account.name, phase: account.phase },
      current: current
        ? {
            score: Number(current.score),
            band: current.band,
            profile: current.profile,
            previousScore: current.previous_score === null ? null : Number(current.previous_score),
            previousBand: current.previous_band,
            bandChangedAt: current.band_changed_at,
            computedAt: current.computed_at,
            components: current.components,
          }
        : null,
      days,
      history: points,
      trend: trendOf(points),
    };
  }
}
