import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/db';

/** The rows to insert, column by column (element i of every column is row i); times as ISO 8601 strings. */
export interface OutboxColumns {
  idempotency_key: string[];
  account_id: (string | null)[];
  contact_id: string[];
  to_email: string[];
  journey_key: (string | null)[];
  journey_version_id: (string | null)[];
  enrollment_id: (string | null)[];
  step_id: (string | null)[];
  template: string[];
  template_version: (string | null)[];
  locale: string[];
  category: ('marketing' | 'operational')[];
  priority: number[];
  context: Record<string, unknown>[];
  status: ('queued' | 'holdout')[];
  scheduled_at: string[];
  expires_at: (string | null)[];
  subject: (string | null)[];
  reason: (string | null)[];
}

/** Outbox inserts, in the caller's transaction. */
@Injectable()
export class OutboxRepository {
  /** Inserts rows whose idempotency key is new; answers the id of every key (new or existing). */
  async insert(tx: Tx, rows: OutboxColumns, now: Date): Promise<Map<string, { id: string; created: boolean }>> {
    const out = new Map<string, { id: string; created: boolean }>();
    if (!rows.idempotency_key.length) return out;
    const inserted = await tx.query<{ id: string; idempotency_key: string }>(
      `INSERT INTO messages (idempotency_key, account_id, contact_id, to_email, journey_key, journey_version_id, enrollment_id, step_id,
                             template, template_version, locale, category, priority, context, status, scheduled_at, expires_at, subject, reason, created_at, updated_at)
       SELECT k, a, c, e, jk, jv, en, st, t, tv, l, cat, p, $14::jsonb -> (n - 1)::int, s, sa, ea, sub, rs, $20, $20
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[],
                     $9::text[], $10::text[], $11::text[], $12::text[], $13::int[], $15::text[], $16::timestamptz[], $17::timestamptz[],
                     $18::text[], $19::text[]) WITH ORDINALITY
              AS u(k, a, c, e, jk, jv, en, st, t, tv, l, cat, p, s, sa, ea, sub, rs, n)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id::text, idempotency_key`,
      [
        rows.idempotency_key, rows.account_id, rows.contact_id, rows.to_email, rows.journey_key, rows.journey_version_id,
        rows.enrollment_id, rows.step_id, rows.template, rows.template_version, rows.locale, rows.category, rows.priority,
        // The contexts as ONE JSON array (element i for row i): a jsonb[] parameter would be
        // escaped element by element into an array literal, the costliest part of a large batch.
        JSON.stringify(rows.context), rows.status, rows.scheduled_at, rows.expires_at, rows.subject, rows.reason, now,
      ],
    );
    for (const r of inserted) out.set(r.idempotency_key, { id: r.id, created: true });
    const missing = rows.idempotency_key.filter((k) => !out.has(k));
    if (missing.length) {
      const existing = await tx.query<{ id: string; idempotency_key: string }>(`SELECT id::text, idempotency_key FROM messages WHERE idempotency_key = ANY($1::text[])`, [missing]);
      for (const r of existing) out.set(r.idempotency_key, { id: r.id, created: false });
    }
    return out;
  }
}
