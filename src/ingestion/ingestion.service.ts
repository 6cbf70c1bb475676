import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { InvalidInput, Problem } from '../common/errors';
import { zodProblems } from '../common/zod-problems';
import { CONFIG } from '../config/config.module';
import type { Config } from '../config/config';
import { IngestionRepository } from './ingestion.repository';
import { normalizeMessage, NormalizedMessage, NormalizeLimits } from './normalize';
import { IngestionNotifier } from './ingestion.notifier';
import { ingestedMessages, rejectedMessages } from '../ops/metrics';
import { batchEnvelopeSchema, MessageType } from './segment.schema';

export interface RejectedItem extends Problem {
  index: number;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: RejectedItem[];
}

@Injectable()
export class IngestionService {
  private readonly limits: NormalizeLimits;

  constructor(
    private readonly repo: IngestionRepository,
    private readonly clock: Clock,
    private readonly notifier: IngestionNotifier,
    @Inject(CONFIG) config: Config,
  ) {
    this.limits = { maxMessageBytes: config.ingest.maxMessageBytes, maxFutureMs: 24 * 3_600_000 };
  }

  /** One identify/group/track call: valid or rejected whole. */
  async ingestOne(type: MessageType, body: unknown): Promise<IngestResult> {
    const receivedAt = this.clock.now();
    const n = normalizeMessage(body, type, '', receivedAt, this.limits);
    if (!n.ok) {
      rejectedMessages.inc();
      throw new InvalidInput(`invalid ${type} message`, n.problems);
    }
    return this.write([n.message], [], receivedAt);
  }

  /** A Segment batch: valid items are written, each invalid one is reported with its index and field path. */
  async ingestBatch(body: unknown): Promise<IngestResult> {
    const envelope = batchEnvelopeSchema.safeParse(body);
    if (!envelope.success) throw new InvalidInput('invalid batch', zodProblems(envelope.error));
    const result = await this.ingestMessages(envelope.data.batch, (i) => `batch[${i}]`, envelope.data.context);
    if (!result.accepted && !result.duplicates) throw new InvalidInput('no valid message in the batch', result.rejected);
    return result;
  }

  /**
   * Validates and writes many messages; `at(i)` names item i in problems (a batch path, a CSV
   * line). Messages sharing a `groupOf` value (one CSV row) are kept or rejected together.
   */
  async ingestMessages(
    raws: unknown[],
    at: (index: number) => string,
    context?: Record<string, unknown>,
    groupOf: (index: number) => number = (i) => i,
  ): Promise<IngestResult> {
    const receivedAt = this.clock.now();
    const normalized = raws.map((raw, index) => normalizeMessage(raw, undefined, at(index), receivedAt, this.limits, { context }));
    const rejected: RejectedItem[] = [];
    const badGroups = new Set<number>();
    normalized.forEach((n, index) => {
      if (n.ok) return;
      badGroups.add(groupOf(index));
      for (const p of n.problems) rejected.push({ index, ...p });
    });
    const valid = normalized.flatMap((n, index) => (n.ok && !badGroups.has(groupOf(index)) ? [n.message] : []));
    if (badGroups.size) rejectedMessages.inc(badGroups.size);
    if (!valid.length) return { accepted: 0, duplicates: 0, rejected };
    return this.write(valid, rejected, receivedAt);
  }

  private async write(messages: NormalizedMessage[], rejected: RejectedItem[], receivedAt: Date): Promise<IngestResult> {
    const { inserted, duplicates } = await this.repo.write(messages, receivedAt);
    if (inserted) {
      ingestedMessages.inc(inserted);
      this.notifier.emit({ count: inserted, receivedAt });
    }
    return { accepted: inserted, duplicates, rejected };
  }
}
