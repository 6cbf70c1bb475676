import { Injectable } from '@nestjs/common';
import { Clock, isoTime } from '../common/clock';
import { InvalidInput, Problem } from '../common/errors';
import type { Tx } from '../database/db';
import { OutboxColumns, OutboxRepository } from './outbox.repository';

type Id = string | number | bigint;

/** What the journey engine hands to delivery: one email to one recipient at one step. */
export interface NewMessage {
  enrollmentId: Id;
  stepId: string;
  /**
   * The enrollment's transition counter when the step was taken: a step revisited later
   * (a loop back through a branch) is a new message. Part of the idempotency key when given.
   */
  seq?: number;
  contactId: Id;
  accountId?: Id | null;
  toEmail: string;
  journeyKey?: string | null;
  journeyVersionId?: Id | null;
  template: string;
  /** Pin a template version; null renders the current one at send time. */
  templateVersion?: string | null;
  locale: string;
  category: 'marketing' | 'operational';
  /** Higher wins when frequency caps allow only one of several messages. */
  priority?: number;
  /** Everything the template needs, kept so the message can be re-rendered for review. */
  context?: Record<string, unknown>;
  scheduledAt: Date;
  /** A capped message waiting longer than this is given up as `capped`. */
  expiresAt?: Date | null;
  /** Control group: recorded, never sent. */
  holdout?: boolean;
  /** Subject line override (else the template's). */
  subject?: string | null;
  /** Why the message is in its status (e.g. the holdout), shown in the console. */
  reason?: string | null;
}

export interface Enqueued {
  key: string;
  id: string;
  /** False when the idempotency key already existed (nothing was written). */
  created: boolean;
}

/** The one idempotency key of a message: enrollment (+ transition) + step + recipient. */
export function idempotencyKey(enrollmentId: Id, stepId: string, contactId: Id, seq?: number): string {
  return `e${String(enrollmentId)}${seq === undefined ? '' : `:t${seq}`}:s${stepId}:c${String(contactId)}`;
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/** Whether the outbox accepts this address (the engine skips recipients it would reject). */
export function isEmailAddress(s: string | null | undefined): s is string {
  return typeof s === 'string' && EMAIL.test(s.trim());
}

/**
 * The outbox's front door — the ONE place that writes outbox rows: the journey engine's
 * step batches (thousands of messages per call, one INSERT … SELECT FROM unnest) and
 * single messages alike are inserted in the caller's transaction (with the enrollment step
 * that decided them), once per idempotency key.
 */
@Injectable()
export class OutboxService {
  constructor(
    private readonly repo: OutboxRepository,
    private readonly clock: Clock,
  ) {}

  async enqueue(tx: Tx, message: NewMessage): Promise<Enqueued> {
    return (await this.enqueueMany(tx, [message]))[0];
  }

  /** All or nothing: any invalid message throws InvalidInput naming `[index].field`, before any write. */
  async enqueueMany(tx: Tx, messages: NewMessage[]): Promise<Enqueued[]> {
    const problems = messages.flatMap((m, i) => validate(m, messages.length > 1 ? `[${i}]` : ''));
    if (problems.length) throw new InvalidInput(`${problems.length} invalid outbox message field(s)`, problems);
    // Straight into the insert's columns (one pass, no row objects copied again); times as ISO strings (the driver formats Dates slowly, in local time).
    const n = messages.length;
    const rows: OutboxColumns = {
      idempotency_key: new Array(n), account_id: new Array(n), contact_id: new Array(n), to_email: new Array(n), journey_key: new Array(n),
      journey_version_id: new Array(n), enrollment_id: new Array(n), step_id: new Array(n), template: new Array(n), template_version: new Array(n),
      locale: new Array(n), category: new Array(n), priority: new Array(n), context: new Array(n), status: new Array(n), scheduled_at: new Array(n),
      expires_at: new Array(n), subject: new Array(n), reason: new Array(n),
    };
    for (let i = 0; i < n; i++) {
      const m = messages[i];
      rows.idempotency_key[i] = idempotencyKey(m.enrollmentId, m.stepId, m.contactId, m.seq);
      rows.account_id[i] = m.accountId == null ? null : String(m.accountId);
      rows.contact_id[i] = String(m.contactId);
      rows.to_email[i] = m.toEmail.trim();
      rows.journey_key[i] = m.journeyKey ?? null;
      rows.journey_version_id[i] = m.journeyVersionId == null ? null : String(m.journeyVersionId);
      rows.enrollment_id[i] = String(m.enrollmentId);
      rows.step_id[i] = m.stepId;
      rows.template[i] = m.template;
      rows.template_version[i] = m.templateVersion ?? null;
      rows.locale[i] = m.locale;
      rows.category[i] = m.category;
      rows.priority[i] = m.priority ?? 0;
      rows.context[i] = m.context ?? {};
      rows.status[i] = m.holdout ? 'holdout' : 'queued';
      rows.scheduled_at[i] = isoTime(m.scheduledAt);
      rows.expires_at[i] = m.expiresAt ? isoTime(m.expiresAt) : null;
      rows.subject[i] = m.subject ?? null;
      rows.reason[i] = m.reason ?? null;
    }
    const ids = await this.repo.insert(tx, rows, this.clock.now());
    return rows.idempotency_key.map((key) => {
      const row = ids.get(key)!;
      return { key, id: row.id, created: row.created };
    });
  }
}

const isId = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) || (typeof v === 'bigint' && v > 0n) || (typeof v === 'string' && /^[1-9]\d{0,18}$/.test(v));

function validate(m: NewMessage, at: string): Problem[] {
  const p: Problem[] = [];
  const bad = (field: string, message: string) => p.push({ path: at ? `${at}.${field}` : field, message });
  if (!isId(m.enrollmentId)) bad('enrollmentId', 'expected a positive integer id');
  if (!isId(m.contactId)) bad('contactId', 'expected a positive integer id');
  if (m.accountId != null && !isId(m.accountId)) bad('accountId', 'expected a positive integer id or null');
  if (typeof m.stepId !== 'string' || !m.stepId) bad('stepId', 'must not be empty');
  if (!isEmailAddress(m.toEmail)) bad('toEmail', `expected an email address (got ${JSON.stringify(m.toEmail)})`);
  if (typeof m.template !== 'string' || !m.template) bad('template', 'must not be empty');
  if (typeof m.locale !== 'string' || !m.locale) bad('locale', 'must not be empty');
  if (m.category !== 'marketing' && m.category !== 'operational') bad('category', 'expected marketing or operational');
  if (m.priority !== undefined && !Number.isInteger(m.priority)) bad('priority', 'expected an integer');
  if (m.seq !== undefined && !(Number.isInteger(m.seq) && m.seq >= 0)) bad('seq', 'expected a non-negative integer');
  if (!(m.scheduledAt instanceof Date) || Number.isNaN(m.scheduledAt.getTime())) bad('scheduledAt', 'expected a valid Date');
  if (m.expiresAt != null && (!(m.expiresAt instanceof Date) || Number.isNaN(m.expiresAt.getTime()))) bad('expiresAt', 'expected a valid Date or null');
  if (m.context !== undefined && (typeof m.context !== 'object' || m.context === null || Array.isArray(m.context))) bad('context', 'expected an object');
  return p;
}
