import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { GroupCommit } from '../database/group-commit';

/** What tracking needs to know about a message (cached: none of it changes once sent). */
export interface MessageMeta {
  id: string;
  contactId: string;
  accountId: string | null;
  email: string;
  category: 'marketing' | 'operational';
  sentAt: Date | null;
  locale: string | null;
}

export interface EngagementInsert {
  messageId: string | null;
  contactId: string | null;
  accountId: string | null;
  kind: 'delivered' | 'open' | 'click' | 'unsubscribe' | 'resubscribe' | 'bounce' | 'soft_bounce' | 'complaint' | 'survey';
  machine: boolean;
  classification: string | null;
  url?: string | null;
  userAgent?: string | null;
  ipHash?: string | null;
  email?: string | null;
  externalId?: string | null;
  data?: Record<string, unknown>;
  occurredAt: Date;
}

export interface SurveyAnswer {
  messageId: string;
  contactId: string;
  accountId: string | null;
  kind: 'nps' | 'csat';
  score: number;
  machine: boolean;
  classification: string;
  at: Date;
  burstSeconds: number;
}

export interface SurveyRow {
  kind: 'nps' | 'csat';
  score: number;
  comment: string | null;
  machine: boolean;
  classification: string | null;
  answers: number;
}

const COLUMNS = 'message_id, contact_id, account_id, kind, machine, classification, url, user_agent, ip_hash, email, external_id, data, occurred_at';

function values(e: EngagementInsert): unknown[] {
  return [
    e.messageId,
    e.contactId,
    e.accountId,
    e.kind,
    e.machine,
    e.classification,
    e.url ?? null,
    e.userAgent ?? null,
    e.ipHash ?? null,
    e.email ?? null,
    e.externalId ?? null,
    JSON.stringify(e.data ?? {}),
    e.occurredAt,
  ];
}

/** Opens and clicks: our own events, never with a provider's id. */
export type HitInsert = Omit<EngagementInsert, 'externalId' | 'email'>;

const HIT_COLUMNS: Array<[string, string]> = [
  ['message_id', 'bigint'],
  ['contact_id', 'bigint'],
  ['account_id', 'bigint'],
  ['kind', 'text'],
  ['machine', 'boolean'],
  ['classification', 'text'],
  ['url', 'text'],
  ['user_agent', 'text'],
  ['ip_hash', 'text'],
  ['data', 'jsonb'],
  ['occurred_at', 'timestamptz'],
];

const INSERT_HITS = `INSERT INTO engagement_events (${HIT_COLUMNS.map(([name]) => name).join(', ')})
  SELECT * FROM unnest(${HIT_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`;

/** One statement in flight; hits per INSERT and messages per lookup, at most. */
const GROUPS = { maxInFlight: 1, maxItems: 500 };
const one = () => 1;

const MESSAGE_META = `SELECT m.id::text, m.contact_id::text, m.account_id::text, m.to_email, m.category, m.sent_at, coalesce(c.locale, m.locale) AS locale
  FROM messages m LEFT JOIN contacts c ON c.id = m.contact_id WHERE m.id = ANY($1::bigint[])`;

/** Engagement events and survey answers: reviewed SQL; opens and clicks are written and looked up in groups. */
@Injectable()
export class EngagementRepository {
  /**
   * Opens and clicks (group commit): hits that arrive while a write is in flight go
   * together in the next multi-row INSERT, so under load one commit carries many hits,
   * and each caller still waits for the commit of its own hit.
   */
  private readonly hits = new GroupCommit<HitInsert, void>((events) => this.insertHits(events), one, GROUPS);
  /** Message facts for hits whose message is not cached yet: one lookup for many. */
  private readonly lookups = new GroupCommit<string, MessageMeta | null>((ids) => this.messages(ids), one, GROUPS);

  constructor(private readonly db: Db) {}

  /** Records one open or click and resolves once it is committed. */
  recordHit(event: HitInsert): Promise<void> {
    return this.hits.submit(event);
  }

  /**
   * One statement of a fixed text for a whole batch of hits: one array per column, unnested
   * (PostgreSQL parses and plans it the same way for 1 hit or 500). Hits have no provider
   * id, so there is no conflict to skip and nothing to return.
   */
  private async insertHits(events: HitInsert[]): Promise<void[]> {
    const cols: unknown[][] = HIT_COLUMNS.map(() => []);
    for (const e of events) {
      const row = [e.messageId, e.contactId, e.accountId, e.kind, e.machine, e.classification, e.url ?? null, e.userAgent ?? null, e.ipHash ?? null, JSON.stringify(e.data ?? {}), e.occurredAt];
      for (let i = 0; i < row.length; i++) cols[i].push(row[i]);
    }
    // Prepared once per pooled connection: a hit's share of parsing and planning is nothing.
    await this.db.prepared('engagement_insert_hits', INSERT_HITS, cols);
    return events.map(() => undefined);
  }

  /** The message's facts (null: no such message); concurrent callers share one lookup. */
  message(id: string): Promise<MessageMeta | null> {
    if (!/^\d{1,18}$/.test(id)) return Promise.resolve(null);
    return this.lookups.submit(id);
  }

  private async messages(ids: string[]): Promise<Array<MessageMeta | null>> {
    const rows = await this.db.prepared('engagement_message_meta', MESSAGE_META, [[...new Set(ids)]]);
    const found = new Map<string, MessageMeta>();
    for (const r of rows) found.set(r.id, { id: r.id, contactId: r.contact_id, accountId: r.account_id, email: r.to_email, category: r.category, sentAt: r.sent_at, locale: r.locale });
    return ids.map((id) => found.get(id) ?? null);
  }

  /**
   * Inserts events; returns how many were new (provider events already recorded, by
   * external id, are skipped: providers retry webhooks).
   */
  async insert(events: EngagementInsert[]): Promise<number> {
    if (!events.length) return 0;
    const params: unknown[] = [];
    const rows = events.map((e) => {
      const start = params.length;
      params.push(...values(e));
      return `(${values(e)
        .map((_, i) => `$${start + i + 1}${i === 11 ? '::jsonb' : ''}`)
        .join(', ')})`;
    });
    const inserted = await this.db.query(
      `INSERT INTO engagement_events (${COLUMNS}) VALUES ${rows.join(', ')}
       ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING id`,
      params,
    );
    return inserted.length;
  }

  /** Clicks on this message from the honeypot's address shortly before were the same scanner. */
  async flagHoneypotPeers(messageId: string, ipHash: string, since: Date): Promise<number> {
    const rows = await this.db.query(
      `UPDATE engagement_events SET machine = true, classification = 'honeypot_peer'
        WHERE message_id = $1 AND ip_hash = $2 AND kind IN ('click','open') AND NOT machine AND occurred_at >= $3 RETURNING id`,
      [messageId, ipHash, since],
    );
    return rows.length;
  }

  /**
   * Records a survey answer as the one answer of the message. A person's answer replaces
   * a machine's and a person's later answer corrects their earlier one; a machine never
   * replaces anything, and a different score within the burst window of the first (a
   * scanner following every score link) turns the answer into a machine one until a
   * person answers again after the window.
   */
  async answerSurvey(a: SurveyAnswer): Promise<SurveyRow> {
    const rows = await this.db.query(
      `INSERT INTO survey_responses AS s (message_id, contact_id, account_id, kind, score, machine, classification, answers, first_at, answered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)
       ON CONFLICT (message_id) DO UPDATE SET
         answers = s.answers + 1,
         score = CASE
           WHEN EXCLUDED.machine THEN s.score
           WHEN EXCLUDED.answered_at < s.first_at + make_interval(secs => $9) AND EXCLUDED.score <> s.score THEN s.score
           ELSE EXCLUDED.score END,
         machine = CASE
           WHEN EXCLUDED.machine THEN s.machine
           WHEN EXCLUDED.answered_at < s.first_at + make_interval(secs => $9) AND EXCLUDED.score <> s.score THEN true
           ELSE false END,
         classification = CASE
           WHEN EXCLUDED.machine THEN s.classification
           WHEN EXCLUDED.answered_at < s.first_at + make_interval(secs => $9) AND EXCLUDED.score <> s.score THEN 'survey_burst'
           ELSE EXCLUDED.classification END,
         answered_at = CASE WHEN EXCLUDED.machine THEN s.answered_at ELSE EXCLUDED.answered_at END
       RETURNING kind, score, comment, machine, classification, answers`,
      [a.messageId, a.contactId, a.accountId, a.kind, a.score, a.machine, a.classification, a.at, a.burstSeconds],
    );
    return rows[0];
  }

  /**
   * The comment form is posted by a person (scanners do not submit forms with a CSRF
   * field): it confirms the answer shown on the page as human and stores the comment.
   */
  async commentSurvey(messageId: string, kind: 'nps' | 'csat', score: number, comment: string, at: Date): Promise<SurveyRow | null> {
    const rows = await this.db.query(
      `UPDATE survey_responses SET kind = $2, score = $3, comment = $4, machine = false, classification = 'human_comment', answered_at = $5
        WHERE message_id = $1 RETURNING kind, score, comment, machine, classification, answers`,
      [messageId, kind, score, comment, at],
    );
    return rows[0] ?? null;
  }

  async survey(messageId: string): Promise<SurveyRow | null> {
    const rows = await this.db.query(`SELECT kind, score, comment, machine, classification, answers FROM survey_responses WHERE message_id = $1`, [messageId]);
    return rows[0] ?? null;
  }
}
