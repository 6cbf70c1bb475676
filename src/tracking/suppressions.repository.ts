import { Injectable } from '@nestjs/common';
import { Db, Tx } from '../database/db';

export type SuppressionScope = 'marketing' | 'all';
export type SuppressionReason = 'unsubscribed' | 'hard_bounce' | 'complaint' | 'manual' | 'soft_bounces';

export interface SuppressionRow {
  email: string;
  scope: SuppressionScope;
  reason: SuppressionReason;
  source: string | null;
}

/** Reasons a recipient cannot undo from the preference page (the address itself is bad, or they complained). */
const HARD_REASONS: SuppressionReason[] = ['hard_bounce', 'complaint', 'manual', 'soft_bounces'];

/**
 * The suppression list, keyed by lower-cased address. Suppressing also settles the
 * address's queued and deferred messages at once (status 'suppressed' with the reason), so
 * nothing already in the outbox goes out; delivery checks the list again before each send.
 */
@Injectable()
export class SuppressionsRepository {
  constructor(private readonly db: Db) {}

  async get(email: string): Promise<SuppressionRow | null> {
    const rows = await this.db.query(`SELECT email, scope, reason, source FROM suppressions WHERE email = lower($1)`, [email]);
    return rows[0] ?? null;
  }

  /**
   * Adds or widens a suppression. A wider scope ('all') replaces a narrower one; an
   * existing 'all' is never narrowed, and a bounce/complaint reason is never replaced by
   * an unsubscribe. Returns the number of queued messages that were suppressed.
   */
  async suppress(email: string, scope: SuppressionScope, reason: SuppressionReason, source: string, messageId: string | null, at: Date): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO suppressions AS s (email, scope, reason, source, message_id, created_at, updated_at)
         VALUES (lower($1), $2, $3, $4, $5, $6, $6)
         ON CONFLICT (email) DO UPDATE SET
           scope = CASE WHEN s.scope = 'all' OR EXCLUDED.scope = 'all' THEN 'all' ELSE 'marketing' END,
           reason = CASE WHEN s.reason = ANY($7::text[]) AND EXCLUDED.reason = 'unsubscribed' THEN s.reason ELSE EXCLUDED.reason END,
           source = CASE WHEN s.reason = ANY($7::text[]) AND EXCLUDED.reason = 'unsubscribed' THEN s.source ELSE EXCLUDED.source END,
           message_id = coalesce(EXCLUDED.message_id, s.message_id),
           updated_at = EXCLUDED.updated_at`,
        [email, scope, reason, source, messageId, at, HARD_REASONS],
      );
      return this.settleQueued(tx, email, at);
    });
  }

  /**
   * The recipient's own choice from the preference page: null receives everything again,
   * otherwise unsubscribed at exactly that scope. A bounce, complaint or manual block is
   * never lifted or narrowed here. Returns the row in force afterwards.
   */
  async setOwnChoice(email: string, scope: SuppressionScope | null, source: string, messageId: string | null, at: Date): Promise<SuppressionRow | null> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx.query<SuppressionRow>(`SELECT email, scope, reason, source FROM suppressions WHERE email = lower($1) FOR UPDATE`, [email]);
      if (current && HARD_REASONS.includes(current.reason)) return current;
      if (scope === null) {
        await tx.query(`DELETE FROM suppressions WHERE email = lower($1) AND reason = 'unsubscribed'`, [email]);
        return null;
      }
      await tx.query(
        `INSERT INTO suppressions (email, scope, reason, source, message_id, created_at, updated_at)
         VALUES (lower($1), $2, 'unsubscribed', $3, $4, $5, $5)
         ON CONFLICT (email) DO UPDATE SET scope = EXCLUDED.scope, source = EXCLUDED.source, message_id = EXCLUDED.message_id, updated_at = EXCLUDED.updated_at`,
        [email, scope, source, messageId, at],
      );
      await this.settleQueued(tx, email, at);
      return { email: email.toLowerCase(), scope, reason: 'unsubscribed', source };
    });
  }

  /** Queued/deferred messages to the address that the current suppression forbids. */
  private async settleQueued(tx: Tx, email: string, at: Date): Promise<number> {
    const rows = await tx.query(
      `UPDATE messages m SET status = 'suppressed', reason = 'suppressed: ' || s.reason, updated_at = $2, lease_until = NULL, leased_by = NULL
         FROM suppressions s
        WHERE s.email = lower($1) AND lower(m.to_email) = s.email AND m.status IN ('queued','deferred')
          AND (s.scope = 'all' OR m.category = 'marketing')
        RETURNING m.id`,
      [email, at],
    );
    return rows.length;
  }
}
