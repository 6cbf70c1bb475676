import { Injectable } from '@nestjs/common';
import { Db, Tx } from '../database/db';
import { from, MessageEvent, to } from './message-state';

/** A claimed row, as the gate sees it. */
export interface CandidateRow {
  id: string;
  contact_id: string;
  account_id: string | null;
  category: 'marketing' | 'operational';
  priority: number;
  created_at: Date;
  expires_at: Date | null;
  scheduled_at: Date;
  contact_tz: string | null;
  account_tz: string | null;
  consent_marketing: boolean | null;
  suppression_scope: 'marketing' | 'all' | null;
  suppression_reason: string | null;
}

/** A message this dispatcher now holds in `sending`. */
export interface ClaimedMessage {
  id: string;
  contact_id: string;
  account_id: string | null;
  to_email: string;
  template: string;
  template_version: string | null;
  locale: string;
  category: 'marketing' | 'operational';
  context: Record<string, unknown>;
  attempts: number;
  first_attempt_at: Date;
  message_id_header: string;
}

export interface GateDecisionRow {
  id: string;
  status: 'sending' | 'suppressed' | 'deferred' | 'capped';
  reason: string | null;
  until: Date | null;
  messageIdHeader: string | null;
}

export interface OutcomeRow {
  id: string;
  event: Extract<MessageEvent, 'accepted' | 'temporary_failure' | 'released' | 'permanent_failure' | 'retries_exhausted' | 'render_failed'>;
  reason: string | null;
  error: string | null;
  smtpResponse: string | null;
  /** Next attempt (retries). */
  next: Date | null;
  templateVersion: string | null;
  subject: string | null;
}

/** A hard bounce to suppress (with the outcome of its message). */
export interface HardBounce {
  id: string;
  response: string;
  code?: number;
  status?: string;
}

export interface Pause {
  kind: 'marketing' | 'all';
  reason: string;
  details: Record<string, unknown>;
}

const sqlList = (statuses: string[]) => statuses.map((s) => `'${s}'`).join(',');
// Every gate outcome leaves the same states as a claim (see message-state.ts).
const CLAIMABLE = sqlList(from('claim'));

// UPDATE … RETURNING statements are wrapped in a CTE so that the driver answers plain rows.

/** The dispatcher's reviewed SQL: claims, gate facts, outcomes, lease recovery, pauses. */
@Injectable()
export class DispatchRepository {
  constructor(private readonly db: Db) {}

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async pauses(): Promise<Pause[]> {
    return this.db.query(`SELECT kind, reason, details FROM sending_pauses`);
  }

  /** Locks up to `limit` due messages (skipping rows other dispatchers hold) with the facts the gate needs. */
  async lockDue(tx: Tx, now: Date, limit: number, categories: string[]): Promise<CandidateRow[]> {
    return tx.query(
      `WITH c AS (
         SELECT id FROM messages
          WHERE status IN (${CLAIMABLE}) AND scheduled_at <= $1 AND category = ANY($3::text[])
          ORDER BY scheduled_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED)
       SELECT m.id::text, m.contact_id::text, m.account_id::text, m.category, m.priority, m.created_at, m.expires_at, m.scheduled_at,
              ct.timezone AS contact_tz, a.timezone AS account_tz, ct.consent_marketing,
              s.scope AS suppression_scope, s.reason AS suppression_reason
         FROM c JOIN messages m ON m.id = c.id
         LEFT JOIN contacts ct ON ct.id = m.contact_id
         LEFT JOIN accounts a ON a.id = m.account_id
         LEFT JOIN suppressions s ON s.email = lower(m.to_email)`,
      [now, limit, categories],
    );
  }

  /**
   * Serialises cap decisions for these contacts and accounts across dispatchers until the
   * transaction ends (sorted, so two dispatchers cannot deadlock on each other).
   */
  async lockCapKeys(tx: Tx, contactIds: string[], accountIds: string[]): Promise<void> {
    const keys = [...contactIds.map((id) => `tl.delivery.c:${id}`), ...accountIds.map((id) => `tl.delivery.a:${id}`)];
    if (!keys.length) return;
    await tx.query(`SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(unnest($1::text[]), 0) AS k ORDER BY 1) s`, [keys]);
  }

  /** Marketing sends that count against caps: sent within `since`, or in flight now. */
  async capHistory(tx: Tx, now: Date, since: Date, contactIds: string[], accountIds: string[], excludeIds: string[]) {
    return tx.query<{ contact_id: string; account_id: string | null; at: Date }>(
      `SELECT contact_id::text, account_id::text, CASE WHEN status = 'sending' THEN $1 ELSE sent_at END AS at
         FROM messages
        WHERE category = 'marketing' AND status IN ('sent','sending')
          AND (contact_id = ANY($3::bigint[]) OR account_id = ANY($4::bigint[]))
          AND (status = 'sending' OR sent_at > $2)
          AND NOT (id = ANY($5::bigint[]))`,
      [now, since, contactIds, accountIds, excludeIds],
    );
  }

  /** Due, unsuppressed marketing messages outside the batch that outrank its lowest priority. */
  async competitors(tx: Tx, now: Date, contactIds: string[], accountIds: string[], excludeIds: string[], abovePriority: number) {
    return tx.query<{ id: string; contact_id: string; account_id: string | null; priority: number }>(
      `SELECT m.id::text, m.contact_id::text, m.account_id::text, m.priority
         FROM messages m
         LEFT JOIN suppressions s ON s.email = lower(m.to_email)
        WHERE m.status IN (${CLAIMABLE}) AND m.scheduled_at <= $1 AND m.category = 'marketing'
          AND (m.contact_id = ANY($2::bigint[]) OR m.account_id = ANY($3::bigint[]))
          AND NOT (m.id = ANY($4::bigint[])) AND m.priority > $5 AND s.email IS NULL
        LIMIT 1000`,
      [now, contactIds, accountIds, excludeIds, abovePriority],
    );
  }

  /** Applies the gate's decisions; the rows to send come back in `sending`, leased to `worker`. */
  async applyDecisions(tx: Tx, now: Date, leaseUntil: Date, worker: string, decisions: GateDecisionRow[]): Promise<ClaimedMessage[]> {
    if (!decisions.length) return [];
    return tx.query(
      `WITH u AS (UPDATE messages m SET
          status = d.status,
          reason = d.reason,
          scheduled_at = COALESCE(d.until, m.scheduled_at),
          lease_until = CASE WHEN d.status = '${to('claim')}' THEN $2::timestamptz END,
          leased_by = CASE WHEN d.status = '${to('claim')}' THEN $3 END,
          attempts = m.attempts + CASE WHEN d.status = '${to('claim')}' THEN 1 ELSE 0 END,
          first_attempt_at = CASE WHEN d.status = '${to('claim')}' THEN COALESCE(m.first_attempt_at, $1) ELSE m.first_attempt_at END,
          message_id_header = COALESCE(m.message_id_header, d.mid), -- fixed at first claim: every attempt is the same message
          send_started_at = NULL,
          updated_at = $1
        FROM unnest($4::bigint[], $5::text[], $6::text[], $7::timestamptz[], $8::text[]) AS d(id, status, reason, until, mid)
       WHERE m.id = d.id AND m.status IN (${CLAIMABLE})
       RETURNING CASE WHEN d.status = '${to('claim')}' THEN m.id::text END AS id,
                 m.contact_id::text, m.account_id::text, m.to_email, m.template, m.template_version, m.locale,
                 m.category, m.context, m.attempts, m.first_attempt_at, m.message_id_header)
       SELECT * FROM u`,
      [now, leaseUntil, worker, decisions.map((d) => d.id), decisions.map((d) => d.status), decisions.map((d) => d.reason), decisions.map((d) => d.until), decisions.map((d) => d.messageIdHeader)],
    ).then((rows: ClaimedMessage[]) => rows.filter((r) => r.id !== null));
  }

  /**
   * One statement at a dispatcher's group barrier: writes the outcomes of sends (the status
   * updates, a `delivered` engagement event for each message the server accepted, hard-bounce
   * suppressions and bounce events) and records that the next group is about to be offered to
   * SMTP (`send_started_at`, lease renewed), all in one transaction. Every write is fenced by
   * `status = 'sending' AND leased_by = worker`. Answers how many outcomes were written and the
   * ids of the group still held; any other was taken back by lease recovery (not ours to send).
   */
  async recordAndMark(
    now: Date,
    worker: string,
    outcomes: OutcomeRow[],
    hardBounces: HardBounce[],
    mark: { ids: string[]; leaseUntil: Date } | null,
  ): Promise<{ recorded: number; held: Set<string> }> {
    if (!outcomes.length && !mark?.ids.length) return { recorded: 0, held: new Set() };
    const status = (e: OutcomeRow['event']) => to(e);
    // Prepared once per pooled connection: one of these runs per group of sends, on their path.
    const rows = await this.db.prepared<{ n: number; held: string[] }>(
      'delivery_record_and_mark',
      `WITH done AS (
         UPDATE messages m SET
            status = d.status,
            reason = d.reason,
            last_error = COALESCE(d.err, m.last_error),
            smtp_response = COALESCE(d.resp, m.smtp_response),
            scheduled_at = COALESCE(d.next, m.scheduled_at),
            sent_at = CASE WHEN d.status = 'sent' THEN $1::timestamptz END,
            template_version = COALESCE(d.tv, m.template_version),
            subject = COALESCE(d.subject, m.subject),
            attempts = m.attempts - CASE WHEN d.undo THEN 1 ELSE 0 END,
            send_started_at = CASE WHEN d.status = 'sent' THEN m.send_started_at END,
            lease_until = NULL, leased_by = NULL, updated_at = $1
           FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::boolean[])
                AS d(id, status, reason, err, resp, next, tv, subject, undo)
          WHERE m.id = d.id AND m.status = 'sending' AND m.leased_by = $2
          RETURNING m.id, m.to_email, m.contact_id, m.account_id, m.status, m.smtp_response),
       delivered AS (
         INSERT INTO engagement_events (message_id, contact_id, account_id, kind, email, data, occurred_at)
         SELECT id, contact_id, account_id, 'delivered', lower(to_email), jsonb_build_object('source', 'smtp', 'response', smtp_response), $1 FROM done WHERE status = 'sent'),
       bounced AS (
         SELECT done.*, b.resp, b.detail FROM done JOIN unnest($12::bigint[], $13::text[], $14::jsonb[]) AS b(id, resp, detail) ON b.id = done.id),
       sup AS (
         INSERT INTO suppressions (email, scope, reason, source, message_id, created_at, updated_at)
         SELECT DISTINCT ON (lower(to_email)) lower(to_email), 'all', 'hard_bounce', 'smtp', id, $1, $1 FROM bounced
         ON CONFLICT (email) DO UPDATE SET scope = 'all', reason = 'hard_bounce', source = 'smtp', message_id = EXCLUDED.message_id, updated_at = $1
          WHERE suppressions.scope <> 'all'),
       ev AS (
         INSERT INTO engagement_events (message_id, contact_id, account_id, kind, classification, data, occurred_at)
         SELECT id, contact_id, account_id, 'bounce', 'hard', detail, $1 FROM bounced),
       -- The next group: never a row of this statement's outcomes (one statement must not update a row twice).
       started AS (
         UPDATE messages SET send_started_at = $1, lease_until = $16
          WHERE id = ANY($15::bigint[]) AND NOT (id = ANY($3::bigint[])) AND status = 'sending' AND leased_by = $2
          RETURNING id::text)
       SELECT (SELECT count(*)::int FROM done) AS n, ARRAY(SELECT id FROM started) AS held`,
      [
        now,
        worker,
        outcomes.map((o) => o.id),
        outcomes.map((o) => status(o.event)),
        outcomes.map((o) => o.reason),
        outcomes.map((o) => o.error),
        outcomes.map((o) => o.smtpResponse),
        outcomes.map((o) => o.next),
        outcomes.map((o) => o.templateVersion),
        outcomes.map((o) => o.subject),
        outcomes.map((o) => o.event === 'released'),
        hardBounces.map((b) => b.id),
        hardBounces.map((b) => b.response),
        hardBounces.map((b) => JSON.stringify({ source: 'smtp', code: b.code ?? null, status: b.status ?? null, response: b.response })),
        mark?.ids ?? [],
        mark?.leaseUntil ?? null,
      ],
    );
    return { recorded: rows[0]?.n ?? 0, held: new Set(rows[0]?.held ?? []) };
  }

  /**
   * Lease recovery: messages left in `sending` by a dispatcher that died or stalled.
   * Never offered to SMTP → queued again. Offered (send_started_at set) → may have been
   * accepted: queued again (`retry`, the same Message-ID goes out) or held for `review`.
   */
  async recoverExpired(now: Date, ambiguous: 'retry' | 'review'): Promise<{ requeued: number; ambiguous: number }> {
    const ambiguousStatus = to(ambiguous === 'retry' ? 'lease_expired_ambiguous_retry' : 'lease_expired_ambiguous_review');
    const rows = await this.db.query<{ ambiguous: boolean }>(
      `WITH u AS (UPDATE messages SET
          status = CASE WHEN send_started_at IS NULL THEN '${to('lease_expired')}' ELSE $2 END,
          reason = CASE WHEN send_started_at IS NULL THEN 'lease expired before sending (dispatcher ' || coalesce(leased_by, '?') || ' stopped); queued again'
                        ELSE 'lease expired after it was offered to SMTP at ' || to_char(send_started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                             || ' (dispatcher ' || coalesce(leased_by, '?') || ' stopped): it may have been accepted; '
                             || CASE WHEN $2 = 'review' THEN 'held for review' ELSE 'sent again with the same Message-ID' END END,
          attempts = CASE WHEN send_started_at IS NULL THEN greatest(attempts - 1, 0) ELSE attempts END,
          lease_until = NULL, leased_by = NULL, send_started_at = NULL, updated_at = $1
        WHERE status = 'sending' AND lease_until < $1
        RETURNING (reason LIKE 'lease expired after%') AS ambiguous) SELECT ambiguous FROM u`,
      [now, ambiguousStatus],
    );
    const amb = rows.filter((r) => r.ambiguous).length;
    return { requeued: rows.length - amb, ambiguous: amb };
  }

  /** Pauses all sending because the provider is unreachable (never overrides another pause). */
  async pauseForOutage(now: Date, until: Date, error: string): Promise<void> {
    await this.db.query(
      `INSERT INTO sending_pauses (kind, reason, details, created_at) VALUES ('all', 'provider_outage', $2::jsonb, $1)
       ON CONFLICT (kind) DO UPDATE SET details = EXCLUDED.details WHERE sending_pauses.reason = 'provider_outage'`,
      [now, JSON.stringify({ until: until.toISOString(), waitMs: until.getTime() - now.getTime(), error: error.slice(0, 500) })],
    );
  }

  async endOutage(): Promise<void> {
    await this.db.query(`DELETE FROM sending_pauses WHERE kind = 'all' AND reason = 'provider_outage'`);
  }
}
