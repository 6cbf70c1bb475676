import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { from, to } from './message-state';

export interface UnsubscribeTarget {
  email: string;
  locale: string | null;
  contact_id: string | null;
  account_id: string | null;
  message_id: string | null;
  suppressed: boolean;
}

const PENDING = from('unsubscribed').map((s) => `'${s}'`).join(',');

@Injectable()
export class UnsubscribeRepository {
  constructor(private readonly db: Db) {}

  /** The address a link was sent to (the message's), else the contact's current one. */
  async target(messageId: string, contactId: string): Promise<UnsubscribeTarget | null> {
    const ok = (v: string) => /^\d{1,18}$/.test(v);
    const rows = await this.db.query<UnsubscribeTarget>(
      `WITH t AS (
         SELECT lower(m.to_email) AS email, m.locale, m.contact_id::text, m.account_id::text, m.id::text AS message_id, 1 AS pref
           FROM messages m WHERE $1::bigint IS NOT NULL AND m.id = $1::bigint AND m.contact_id = $2::bigint
         UNION ALL
         SELECT lower(c.email), c.locale, c.id::text, c.account_id::text, NULL, 2
           FROM contacts c WHERE $2::bigint IS NOT NULL AND c.id = $2::bigint AND c.email IS NOT NULL)
       SELECT t.email, t.locale, t.contact_id, t.account_id, t.message_id,
              EXISTS (SELECT 1 FROM suppressions s WHERE s.email = t.email) AS suppressed
         FROM t ORDER BY pref LIMIT 1`,
      [ok(messageId) ? messageId : null, ok(contactId) ? contactId : null],
    );
    return rows[0] ?? null;
  }

  /**
   * Suppresses marketing to the address and, in the same transaction, every queued or
   * deferred marketing message to it. Idempotent: a second call changes nothing.
   */
  async unsubscribe(t: UnsubscribeTarget, source: string, now: Date): Promise<{ created: boolean; suppressedMessages: number }> {
    return this.db.transaction(async (tx) => {
      const created = await tx.query(
        `INSERT INTO suppressions (email, scope, reason, source, message_id, created_at, updated_at)
         VALUES ($1, 'marketing', 'unsubscribed', $2, $3::bigint, $4, $4)
         ON CONFLICT (email) DO NOTHING RETURNING email`,
        [t.email, source, t.message_id, now],
      );
      if (created.length) {
        await tx.query(
          `INSERT INTO engagement_events (message_id, contact_id, account_id, kind, data, occurred_at)
           VALUES ($1::bigint, $2::bigint, $3::bigint, 'unsubscribe', $4::jsonb, $5)`,
          [t.message_id, t.contact_id, t.account_id, JSON.stringify({ source }), now],
        );
      }
      const updated = await tx.query(
        `WITH u AS (UPDATE messages SET status = '${to('unsubscribed')}', reason = 'address suppressed: unsubscribed (' || $2 || ')', updated_at = $3
          WHERE lower(to_email) = $1 AND status IN (${PENDING}) AND category = 'marketing'
          RETURNING id) SELECT id FROM u`,
        [t.email, source, now],
      );
      return { created: created.length > 0, suppressedMessages: updated.length };
    });
  }
}
