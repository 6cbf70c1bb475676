import { Inject, Injectable, Logger } from '@nestjs/common';
import * as os from 'node:os';
import { Clock } from '../common/clock';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { Db } from '../database/db';
import { HttpClient } from './adapters';

interface PendingHandoff {
  id: string;
  idempotency_key: string;
  webhook_url: string;
  webhook_attempts: number;
  account_id: string;
  external_id: string;
  account_name: string;
  contact_id: string | null;
  journey_key: string | null;
  step_id: string | null;
  reason: string;
  signals: unknown;
  assignee: string | null;
  created_at: Date;
}

/** Backoff between webhook attempts: 1 min, 2, 4, … capped at 6 h. */
export function webhookBackoffMs(attempt: number): number {
  return Math.min(60_000 * 2 ** (attempt - 1), 6 * 3_600_000);
}

/**
 * Delivers hand-off webhooks (the task row was written with the enrollment's step, so a
 * hand-off is never lost or duplicated; the POST itself is at-least-once, carrying the
 * hand-off's idempotency key so the receiver can drop a repeat). Claims with SKIP LOCKED and
 * a lease like enrollments, retries with backoff, marks `failed` after the limit.
 */
@Injectable()
export class HandoffWebhooksRepository {
  constructor(private readonly db: Db) {}

  async claim(now: Date, limit: number, leaseMs: number): Promise<PendingHandoff[]> {
    return this.db.query(
      `WITH due AS (
         SELECT id FROM handoffs WHERE webhook_status = 'pending' AND webhook_next_at <= $1
          ORDER BY webhook_next_at LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       , claimed AS (
         UPDATE handoffs h SET webhook_next_at = $3 FROM due, accounts a
          WHERE h.id = due.id AND a.id = h.account_id
         RETURNING h.id, h.idempotency_key, h.webhook_url, h.webhook_attempts, h.account_id, a.external_id, a.name AS account_name,
                   h.contact_id, h.journey_key, h.step_id, h.reason, h.signals, h.assignee, h.created_at
       )
       SELECT * FROM claimed`,
      [now, limit, new Date(now.getTime() + leaseMs)],
    );
  }

  async delivered(id: string): Promise<void> {
    await this.db.query(`UPDATE handoffs SET webhook_status = 'delivered', webhook_attempts = webhook_attempts + 1, webhook_next_at = NULL, webhook_last_error = NULL WHERE id = $1`, [id]);
  }

  async attemptFailed(id: string, error: string, nextAt: Date | null): Promise<void> {
    await this.db.query(
      `UPDATE handoffs SET webhook_attempts = webhook_attempts + 1, webhook_last_error = $2, webhook_next_at = $3,
              webhook_status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END
        WHERE id = $1`,
      [id, error.slice(0, 500), nextAt],
    );
  }
}

@Injectable()
export class HandoffWebhooksService {
  private readonly log = new Logger('HandoffWebhooks');
  private readonly sender = `${os.hostname()}:${process.pid}`;

  constructor(
    private readonly repo: HandoffWebhooksRepository,
    private readonly http: HttpClient,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /**
   * POSTs the due hand-offs of one claim concurrently, so a target that hangs costs one
   * timeout for the round, not one per hand-off, and never delays the others. The claim's
   * lease outlasts that round (a slow round is never claimed again by another worker).
   */
  async deliverDue(limit = 50): Promise<{ delivered: number; retried: number; failed: number }> {
    const now = this.clock.now();
    const timeoutMs = this.config.engine.handoffWebhookTimeoutMs;
    const out = { delivered: 0, retried: 0, failed: 0 };
    const claimed = await this.repo.claim(now, limit, Math.max(60_000, 3 * timeoutMs));
    await Promise.all(claimed.map((h) => this.deliverOne(h, now, timeoutMs, out)));
    return out;
  }

  private async deliverOne(h: PendingHandoff, now: Date, timeoutMs: number, out: { delivered: number; retried: number; failed: number }): Promise<void> {
    const attempt = h.webhook_attempts + 1;
    try {
      const res = await this.http.post(
        h.webhook_url,
        {
          type: 'touchline.handoff',
          id: h.idempotency_key,
          account: { id: String(h.account_id), externalId: h.external_id, name: h.account_name },
          contactId: h.contact_id === null ? null : String(h.contact_id),
          journey: h.journey_key,
          step: h.step_id,
          reason: h.reason,
          assignee: h.assignee,
          signals: h.signals,
          createdAt: h.created_at,
        },
        { 'idempotency-key': h.idempotency_key, 'user-agent': `touchline (${this.sender})` },
        timeoutMs,
      );
      if (res.status >= 200 && res.status < 300) {
        await this.repo.delivered(h.id);
        out.delivered++;
        return;
      }
      throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
    } catch (err) {
      const give = attempt >= this.config.engine.handoffWebhookMaxAttempts;
      // fetch's timeout is a DOMException (not always an Error instance): go by its name.
      const name = (err as { name?: unknown } | null)?.name;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      const msg = timedOut ? `no answer from ${h.webhook_url} within ${timeoutMs} ms (timeout)` : err instanceof Error ? err.message : String(err);
      await this.repo.attemptFailed(h.id, msg, give ? null : new Date(now.getTime() + webhookBackoffMs(attempt)));
      if (give) {
        out.failed++;
        this.log.warn(`hand-off ${h.id} webhook failed after ${attempt} attempts: ${msg}`);
      } else out.retried++;
    }
  }
}
