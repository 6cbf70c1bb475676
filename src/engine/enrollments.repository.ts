import { Injectable } from '@nestjs/common';
import { compileConditionSql } from '../conditions/compile-sql';
import { ACCOUNT_FIELDS, Condition } from '../conditions/condition';
import { Db, Tx } from '../database/db';
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
  leaseToken: string;
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
  lease_token: string;
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

/** The lease was lost (expired and taken by another worker): nothing of this claim may be written. */
export class LeaseLost extends Error {}

/** Claims, facts and fenced writes of enrollments. Hot paths: reviewed set-based SQL. */
@Injectable()
export class EnrollmentsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Claims due enrollments of active journeys: FOR UPDATE SKIP LOCKED so concurrent workers
   * take disjoint rows, and a lease (lease_until, and the token increments): a killed
   * worker's rows are claimable again when the lease runs out.
   */
  async claim(journeyKeys: string[], now: Date, limit: number, leaseMs: number, worker: string): Promise<ClaimedEnrollment[]> {
    if (!journeyKeys.length) return [];
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const rows = await this.db.query(
      `WITH due AS (
         SELECT id FROM enrollments
          WHERE status = 'active' AND due_at <= $1 AND journey_key = ANY($2::text[]) AND (lease_until IS NULL OR lease_until <= $1)
          ORDER BY due_at
          LIMIT $3
          FOR UPDATE SKIP LOCKED
       )
       , claimed AS (
         -- Only unindexed columns change: a HOT update (no index writes) where the page has room for
         -- the new version (pages filled by an entry pass mostly have not; see the README, engine benchmark).
         UPDATE enrollments e SET lease_until = $4, leased_by = $5, lease_token = e.lease_token + 1
           FROM due WHERE e.id = due.id
         RETURNING e.id, e.journey_key, e.version_id, e.subject_type, e.subject_id, e.account_id, e.contact_id, e.step_id,
                   e.step_started_at, e.entered_at, e.seq, e.holdout, e.arms, e.attempts, e.lease_token
       )
       SELECT * FROM claimed`,
      [now, journeyKeys, limit, leaseUntil, worker],
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
      leaseToken: String(r.lease_token),
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
  async facts(subject: SubjectKind, ids: string[], signals: Signal[], events: string[], today: string, read: FactsRead): Promise<Map<string, FactsRow>> {
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
    const rows = await this.db.query(
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
  async recipients(accountIds: string[], roles: string[], where: Condition, today: string): Promise<Map<string, Recipient[]>> {
    const out = new Map<string, Recipient[]>();
    if (!accountIds.length) return out;
    const params = new SqlParams([accountIds, roles, today]);
    const cond = compileConditionSql(where, { subject: 'contact', account: 'a.id', accountRow: 'a', contact: 'c.id', contactRow: 'c', membershipRole: 'ac.role' }, params, '$3::date');
    const rows = await this.db.query(
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
   * Applies a batch in ONE transaction with set-based statements: the fenced enrollment
   * update and the history (one statement, unnest arrays), the outbox rows through
   * `enqueue` (the outbox's batch enqueue), hand-offs, trait updates. Throws LeaseLost —
   * and the transaction writes nothing — if any lease of the batch was lost.
   */
  applyBatch(batch: ApplyBatch, now: Date, enqueue: (tx: Tx, messages: NewMessage[]) => Promise<unknown>): Promise<void> {
    return this.db.transaction(async (tx) => {
      await this.advance(tx, batch.enrollments, batch.history, now);
      if (batch.messages.length) await enqueue(tx, batch.messages);
      await this.writeHandoffs(tx, batch.handoffs, now);
      await this.writeUpdates(tx, batch.updates, now);
    });
  }

  /** The fence (only the holder of the current lease token may advance an enrollment) and the history, in one statement. */
  private async advance(tx: Tx, rows: EnrollmentUpdate[], history: HistoryRow[], now: Date): Promise<void> {
    const col = <K extends keyof EnrollmentUpdate>(k: K) => rows.map((r) => r[k]);
    const [{ n }] = await tx.query<{ n: number }>(
      `WITH u AS (
         UPDATE enrollments e SET status = x.status, step_id = x.step_id, step_started_at = x.step_started_at, seq = x.seq,
                due_at = x.due_at, arms = x.arms, end_reason = x.end_reason,
                ended_at = CASE WHEN x.status = 'active' THEN NULL ELSE $14::timestamptz END,
                attempts = 0, last_error = NULL, lease_until = NULL, leased_by = NULL, updated_at = $14
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::int[], $7::timestamptz[], $8::jsonb[], $9::text[])
                AS x(id, lease_token, status, step_id, step_started_at, seq, due_at, arms, end_reason)
          WHERE e.id = x.id AND e.lease_token = x.lease_token AND e.status = 'active'
         RETURNING e.id
       ), h AS (
         INSERT INTO enrollment_history (enrollment_id, step_id, outcome, reason, at)
         SELECT y.enrollment_id, y.step_id, y.outcome, y.reason, $14 FROM unnest($10::bigint[], $11::text[], $12::text[], $13::text[]) AS y(enrollment_id, step_id, outcome, reason)
          WHERE y.enrollment_id IN (SELECT id FROM u)
       )
       SELECT count(*)::int AS n FROM u`,
      [
        col('id'), col('lease_token'), col('status'), col('step_id'), col('step_started_at'), col('seq'), col('due_at'),
        rows.map((r) => JSON.stringify(r.arms)), col('end_reason'),
        history.map((h) => h.enrollment_id), history.map((h) => h.step_id), history.map((h) => h.outcome), history.map((h) => h.reason),
        now,
      ],
    );
    if (Number(n) !== rows.length) throw new LeaseLost(`${rows.length - Number(n)} of ${rows.length} leases lost`);
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
   * the reason. Fenced like every write; returns false when the lease was lost meanwhile.
   */
  async recordFailure(id: string, leaseToken: string, error: string, retryAt: Date | null, stepId: string, now: Date): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(
        `WITH u AS (UPDATE enrollments SET attempts = attempts + 1, last_error = $3,
                status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE status END,
                end_reason = CASE WHEN $4::timestamptz IS NULL THEN $3 ELSE end_reason END,
                ended_at = CASE WHEN $4::timestamptz IS NULL THEN $5::timestamptz ELSE ended_at END,
                due_at = $4, lease_until = NULL, leased_by = NULL, updated_at = $5
          WHERE id = $1 AND lease_token = $2 AND status = 'active' RETURNING attempts) SELECT attempts FROM u`,
        [id, leaseToken, error, retryAt, now],
      );
      if (!rows.length) return false;
      await this.insertHistory(tx, [{ enrollment_id: id, step_id: stepId, outcome: retryAt ? 'error' : 'failed', reason: retryAt ? `${error} (attempt ${rows[0].attempts}, retry at ${retryAt.toISOString()})` : error }], now);
      return true;
    });
  }
}
