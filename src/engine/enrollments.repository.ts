import { Injectable } from '@nestjs/common';
import { compileConditionSql } from '../conditions/compile-sql';
import { ACCOUNT_FIELDS, Condition } from '../conditions/condition';
import { Db, Tx } from '../database/db';
import { isDatabaseUnavailable } from '../database/db-errors';
import type { NewMessage } from '../delivery/outbox.service';
import { Signal, SubjectKind } from '../signals/signal';
import { signalSql } from '../signals/signal-sql';
import { SqlParams } from '../signals/sql-params';

export interface ClaimedEnrollment {
  id: string;
  journeyKey: string;
  versionId: string;
  subjectType: SubjectKind;
  subjectId: string;
  accountId: string;
  contactId: string | null;
  stepId: string;
  stepStartedAt: Date;
  enteredAt: Date;
  seq: number;
  holdout: boolean;
  arms: Record<string, string>;
  attempts: number;
}

export interface FactsRow {
  id: string;
  account: Record<string, any> | null;
  contact: Record<string, any> | null;
  memberRole: string | null;
  health: Record<string, any> | null;
  signals: (number | null)[];
  events: string[];
}

/** What a batch's facts read beyond the account and contact fields (see batchRequirements). */
export interface FactsRead {
  accountTraits: boolean;
  contactTraits: boolean;
  health: boolean;
}

/** The account and contact columns a facts row holds: every field a condition can name, and what a step reads. */
const ACCOUNT_COLUMNS = Object.keys(ACCOUNT_FIELDS);
const CONTACT_COLUMNS = ['external_id', 'email', 'name', 'role', 'locale', 'timezone', 'consent_marketing'];

export interface Recipient {
  accountId: string;
  contactId: string;
  email: string | null;
  name: string | null;
  locale: string | null;
  role: string | null;
}

export interface HandoffRow {
  idempotency_key: string;
  account_id: string;
  contact_id: string | null;
  enrollment_id: string;
  journey_key: string;
  step_id: string;
  reason: string;
  signals: unknown;
  assignee: string | null;
  webhook_url: string | null;
}

export interface TraitUpdate {
  accountId: string;
  contactId: string | null;
  phase?: string;
  accountTraits?: Record<string, unknown>;
  contactTraits?: Record<string, unknown>;
}

export interface EnrollmentUpdate {
  id: string;
  status: string;
  step_id: string;
  step_started_at: string;
  seq: number;
  due_at: string | null;
  arms: Record<string, string>;
  end_reason: string | null;
}

export interface HistoryRow {
  enrollment_id: string;
  step_id: string | null;
  outcome: string;
  reason: string;
}

export interface ApplyBatch {
  enrollments: EnrollmentUpdate[];
  /** Written by the outbox's own enqueue (the one place that writes outbox rows), in the batch's transaction. */
  messages: NewMessage[];
  handoffs: HandoffRow[];
  updates: TraitUpdate[];
  history: HistoryRow[];
}

/** The claim's own lease ending: the idle-in-transaction and transaction timeouts `inClaim` sets. */
const LEASE_ENDED = new Set(['25P03', '25P04']);

/**
 * Whether `err` means a claim's session — and with it its row locks — is gone, so nothing of its
 * batch was written: its lease ran out, or the database became unavailable (`isDatabaseUnavailable`).
 */
export function endsClaim(err: unknown): boolean {
  if (isDatabaseUnavailable(err)) return true;
  const e = err as { code?: string; driverError?: { code?: string }; name?: string };
  const code = e.driverError?.code ?? e.code;
  if (code && LEASE_ENDED.has(code)) return true;
  // TypeORM releases a transaction's connection when the server ends the session; its next statement then fails with this error.
  return e.name === 'QueryRunnerProviderAlreadyReleasedError';
}

/** Claims, facts and writes of enrollments. Hot paths: reviewed set-based SQL. */
@Injectable()
export class EnrollmentsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Runs one batch's `work` in a claim transaction, bounded by `leaseMs`: the server ends the
   * session — releasing every row it locked, writing nothing — when it sits idle in the
   * transaction for `leaseMs`, and on PostgreSQL 17+ when the whole transaction outlives
   * `leaseMs`. While it holds the batch the session shows `touchline steps <worker>` in
   * pg_stat_activity.
   */
  inClaim<T>(leaseMs: number, worker: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `SELECT set_config('idle_in_transaction_session_timeout', $1, true), set_config('application_name', $2, true),
                CASE WHEN current_setting('server_version_num')::int >= 170000 THEN set_config('transaction_timeout', $1, true) END`,
        [String(leaseMs), `touchline steps ${worker}`.slice(0, 63)],
      );
      return work(tx);
    });
  }

  /**
   * Claims due enrollments of active journeys for the transaction `tx`: row locks taken with
   * SKIP LOCKED, so concurrent workers take disjoint rows and nothing is written to claim (no
   * new row version, no index entries). The locks are the lease: held until `tx` ends — by its
   * commit with the batch's writes, or by the server ending a session that outlived it (see
   * `lease`) or whose worker died.
   */
  async claim(tx: Tx, journeyKeys: string[], now: Date, limit: number): Promise<ClaimedEnrollment[]> {
    if (!journeyKeys.length) return [];
    const rows = await tx.query(
      `SELECT id, journey_key, version_id, subject_type, subject_id, account_id, contact_id, step_id,
              step_started_at, entered_at, seq, holdout, arms, attempts
         FROM enrollments
        WHERE status = 'active' AND due_at <= $1 AND journey_key = ANY($2::text[])
        ORDER BY due_at
        LIMIT $3
        FOR NO KEY UPDATE SKIP LOCKED`,
      [now, journeyKeys, limit],
    );
    return rows.map((r: any) => ({
      id: String(r.id),
      journeyKey: r.journey_key,
      versionId: String(r.version_id),
      subjectType: r.subject_type,
      subjectId: String(r.subject_id),
      accountId: String(r.account_id),
      contactId: r.contact_id === null ? null : String(r.contact_id),
      stepId: r.step_id,
      stepStartedAt: r.step_started_at,
      enteredAt: r.entered_at,
      seq: r.seq,
      holdout: r.holdout,
      arms: r.arms ?? {},
      attempts: r.attempts,
    }));
  }

  /**
   * Everything the conditions of a batch read, in ONE statement: account, contact (with its
   * role in the enrollment's account), health, the signals, and which of `events` happened
   * since each enrollment's step started (from the rollups' last_at). The account and contact
   * come as plain columns (the fields conditions and steps read; traits and health only when
   * `read` asks): serialising whole rows as JSON cost the server and the service more than the
   * rest of the statement.
   */
  async facts(subject: SubjectKind, ids: string[], signals: Signal[], events: string[], today: string, read: FactsRead, q: Tx = this.db): Promise<Map<string, FactsRow>> {
    const out = new Map<string, FactsRow>();
    if (!ids.length) return out;
    const params = new SqlParams([ids, today, events]);
    const ref = { subject, account: 'en.account_id', accountRow: 'a', contact: 'en.contact_id' };
    const cols = signals.map((s, i) => `${signalSql(s, ref, params, '$2::date')} AS s${i}`);
    // Dates as JSON strings (YYYY-MM-DD), exactly as the evaluator compares them; the driver would make them local Dates.
    const column = (row: 'a' | 'c', f: string) => `${(ACCOUNT_FIELDS as Record<string, string>)[f] === 'date' && row === 'a' ? `to_json(a.${f})` : `${row}.${f}`} AS ${row}_${f}`;
    const accountList = [...ACCOUNT_COLUMNS, ...(read.accountTraits ? ['traits'] : [])];
    const contactList = [...CONTACT_COLUMNS, ...(read.contactTraits ? ['traits'] : [])];
    const accountCols = accountList.map((f) => column('a', f));
    const contactCols = ['id', ...contactList].map((f) => column('c', f));
    // `r.contact_id <> 0` lets the planner use the partial index on (contact_id, event, day); without it
    // each enrollment's probe scanned the primary key without its leading column (minutes per batch on 10M events).
    const owner = subject === 'contact' ? 'r.contact_id = en.contact_id AND r.contact_id <> 0' : 'r.account_id = en.account_id';
    const rows = await q.query(
      `SELECT en.id, ${accountCols.join(', ')}, ${contactCols.join(', ')}, ac.role AS member_role,
              ${read.health ? `CASE WHEN h.account_id IS NULL THEN NULL ELSE jsonb_build_object(
                'score', h.score, 'band', h.band, 'previous_score', h.previous_score, 'previous_band', h.previous_band,
                'band_changed_day', (h.band_changed_at AT TIME ZONE 'UTC')::date) END` : 'NULL'} AS health,
              ${events.length ? `ARRAY(SELECT DISTINCT r.event FROM event_rollups r WHERE ${owner} AND r.event = ANY($3::text[])
                     AND r.day >= (en.step_started_at AT TIME ZONE 'UTC')::date AND r.last_at >= en.step_started_at)` : `'{}'::text[]`} AS events
              ${cols.length ? ', ' + cols.join(', ') : ''}
         FROM enrollments en
         JOIN accounts a ON a.id = en.account_id
         LEFT JOIN contacts c ON c.id = en.contact_id
         LEFT JOIN account_contacts ac ON ac.account_id = en.account_id AND ac.contact_id = en.contact_id
         ${read.health ? 'LEFT JOIN account_health h ON h.account_id = en.account_id' : ''}
        WHERE en.id = ANY($1::bigint[]) AND $2::date IS NOT NULL AND $3::text[] IS NOT NULL`,
      params.values,
    );
    // Column names computed once per batch, not per row and field.
    const fieldsOf = (row: 'a' | 'c', fields: string[]) => fields.map((f) => [f, `${row}_${f}`] as const);
    const accountFields = fieldsOf('a', accountList);
    const contactFields = fieldsOf('c', contactList);
    const signalCols = signals.map((_, i) => `s${i}`);
    const pick = (r: any, fields: (readonly [string, string])[]) => {
      const o: Record<string, any> = {};
      for (const [f, col] of fields) o[f] = r[col];
      return o;
    };
    for (const r of rows) {
      const account = pick(r, accountFields);
      // numeric comes as a string from the driver (as a number from JSON before): keep the number.
      if (account.mrr !== null && account.mrr !== undefined) account.mrr = Number(account.mrr);
      out.set(String(r.id), {
        id: String(r.id),
        account,
        contact: r.c_id === null ? null : pick(r, contactFields),
        memberRole: r.member_role,
        health: r.health,
        signals: signalCols.map((col) => (r[col] === null ? null : Number(r[col]))),
        events: r.events ?? [],
      });
    }
    return out;
  }

  /** The recipients of per-account sends: contacts of each account with one of `roles` (membership role first) matching `where`. */
  async recipients(accountIds: string[], roles: string[], where: Condition, today: string, q: Tx = this.db): Promise<Map<string, Recipient[]>> {
    const out = new Map<string, Recipient[]>();
    if (!accountIds.length) return out;
    const params = new SqlParams([accountIds, roles, today]);
    const cond = compileConditionSql(where, { subject: 'contact', account: 'a.id', accountRow: 'a', contact: 'c.id', contactRow: 'c', membershipRole: 'ac.role' }, params, '$3::date');
    const rows = await q.query(
      `SELECT ac.account_id, c.id, c.email, c.name, c.locale, COALESCE(ac.role, c.role) AS role, $3::date AS as_of
         FROM account_contacts ac JOIN contacts c ON c.id = ac.contact_id JOIN accounts a ON a.id = ac.account_id
        WHERE ac.account_id = ANY($1::bigint[]) AND (cardinality($2::text[]) = 0 OR COALESCE(ac.role, c.role) = ANY($2::text[])) AND ${cond}
        ORDER BY ac.account_id, c.id`,
      params.values,
    );
    for (const r of rows) {
      const list = out.get(String(r.account_id)) ?? [];
      list.push({ accountId: String(r.account_id), contactId: String(r.id), email: r.email, name: r.name, locale: r.locale, role: r.role });
      out.set(String(r.account_id), list);
    }
    return out;
  }

  /**
   * Applies a batch in the claim's transaction `tx` with set-based statements: the enrollment
   * update and the history (one statement, unnest arrays), the outbox rows through `enqueue`
   * (the outbox's batch enqueue), hand-offs, trait updates. They commit with the claim or not
   * at all.
   */
  async applyBatch(tx: Tx, batch: ApplyBatch, now: Date, enqueue: (tx: Tx, messages: NewMessage[]) => Promise<unknown>): Promise<void> {
    await this.advance(tx, batch.enrollments, batch.history, now);
    if (batch.messages.length) await enqueue(tx, batch.messages);
    await this.writeHandoffs(tx, batch.handoffs, now);
    await this.writeUpdates(tx, batch.updates, now);
  }

  /** The enrollments' new positions and their history, in one statement (the rows are the claim's, locked by `tx`). */
  private async advance(tx: Tx, rows: EnrollmentUpdate[], history: HistoryRow[], now: Date): Promise<void> {
    const col = <K extends keyof EnrollmentUpdate>(k: K) => rows.map((r) => r[k]);
    const [{ n }] = await tx.query<{ n: number }>(
      `WITH u AS (
         UPDATE enrollments e SET status = x.status, step_id = x.step_id, step_started_at = x.step_started_at, seq = x.seq,
                due_at = x.due_at, arms = x.arms, end_reason = x.end_reason,
                ended_at = CASE WHEN x.status = 'active' THEN NULL ELSE $13::timestamptz END,
                attempts = 0, last_error = NULL, updated_at = $13
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::int[], $6::timestamptz[], $7::jsonb[], $8::text[])
                AS x(id, status, step_id, step_started_at, seq, due_at, arms, end_reason)
          WHERE e.id = x.id AND e.status = 'active'
         RETURNING e.id
       ), h AS (
         INSERT INTO enrollment_history (enrollment_id, step_id, outcome, reason, at)
         SELECT y.enrollment_id, y.step_id, y.outcome, y.reason, $13 FROM unnest($9::bigint[], $10::text[], $11::text[], $12::text[]) AS y(enrollment_id, step_id, outcome, reason)
          WHERE y.enrollment_id IN (SELECT id FROM u)
       )
       SELECT count(*)::int AS n FROM u`,
      [
        col('id'), col('status'), col('step_id'), col('step_started_at'), col('seq'), col('due_at'),
        rows.map((r) => JSON.stringify(r.arms)), col('end_reason'),
        history.map((h) => h.enrollment_id), history.map((h) => h.step_id), history.map((h) => h.outcome), history.map((h) => h.reason),
        now,
      ],
    );
    // The claim's locks keep every row active until this transaction ends: a difference is a bug, and writes nothing.
    if (Number(n) !== rows.length) throw new Error(`${rows.length - Number(n)} of ${rows.length} claimed enrollments were no longer active`);
  }

  private async writeHandoffs(tx: Tx, handoffs: HandoffRow[], now: Date): Promise<void> {
    if (!handoffs.length) return;
    await tx.query(
      `INSERT INTO handoffs (idempotency_key, account_id, contact_id, enrollment_id, journey_key, step_id, reason, signals, assignee,
                             webhook_url, webhook_status, webhook_next_at, created_at)
       SELECT x.idempotency_key, x.account_id, x.contact_id, x.enrollment_id, x.journey_key, x.step_id, x.reason, COALESCE(x.signals, '{}'::jsonb),
              x.assignee, x.webhook_url, CASE WHEN x.webhook_url IS NULL THEN 'none' ELSE 'pending' END,
              CASE WHEN x.webhook_url IS NULL THEN NULL ELSE $2::timestamptz END, $2
         FROM jsonb_to_recordset($1::jsonb) AS x(idempotency_key text, account_id bigint, contact_id bigint, enrollment_id bigint, journey_key text,
              step_id text, reason text, signals jsonb, assignee text, webhook_url text)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [JSON.stringify(handoffs), now],
    );
  }

  /** Update steps: rare, and each may set different traits (jsonb merges), so one statement per update. */
  private async writeUpdates(tx: Tx, updates: TraitUpdate[], now: Date): Promise<void> {
    for (const u of updates) {
      if (u.phase || u.accountTraits) {
        await tx.query(`UPDATE accounts SET phase = COALESCE($2, phase), traits = traits || $3::jsonb, updated_at = $4 WHERE id = $1`, [
          u.accountId,
          u.phase ?? null,
          JSON.stringify(u.accountTraits ?? {}),
          now,
        ]);
      }
      if (u.contactId && u.contactTraits) {
        await tx.query(`UPDATE contacts SET traits = traits || $2::jsonb, updated_at = $3 WHERE id = $1`, [u.contactId, JSON.stringify(u.contactTraits), now]);
      }
    }
  }

  private async insertHistory(tx: Tx, rows: HistoryRow[], now: Date): Promise<void> {
    await tx.query(
      `INSERT INTO enrollment_history (enrollment_id, step_id, outcome, reason, at)
       SELECT y.enrollment_id, y.step_id, y.outcome, y.reason, $5 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS y(enrollment_id, step_id, outcome, reason)`,
      [rows.map((h) => h.enrollment_id), rows.map((h) => h.step_id), rows.map((h) => h.outcome), rows.map((h) => h.reason), now],
    );
  }

  /**
   * A step failed: retry after `retryAt`, or (at the attempt limit) fail the enrollment with
   * the reason, in the claim's transaction `tx`. Returns false if the enrollment is no longer active.
   */
  async recordFailure(tx: Tx, id: string, error: string, retryAt: Date | null, stepId: string, now: Date): Promise<boolean> {
    const rows = await tx.query(
      `WITH u AS (UPDATE enrollments SET attempts = attempts + 1, last_error = $2,
              status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE status END,
              end_reason = CASE WHEN $3::timestamptz IS NULL THEN $2 ELSE end_reason END,
              ended_at = CASE WHEN $3::timestamptz IS NULL THEN $4::timestamptz ELSE ended_at END,
              due_at = $3, updated_at = $4
        WHERE id = $1 AND status = 'active' RETURNING attempts) SELECT attempts FROM u`,
      [id, error, retryAt, now],
    );
    if (!rows.length) return false;
    await this.insertHistory(tx, [{ enrollment_id: id, step_id: stepId, outcome: retryAt ? 'error' : 'failed', reason: retryAt ? `${error} (attempt ${rows[0].attempts}, retry at ${retryAt.toISOString()})` : error }], now);
    return true;
  }
}
