import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import type { AccountFields, MessageFields } from './row-fields';

export interface AccountHeader extends AccountFields {
  seats: number | null;
  contract_start: string | null;
  score: string | null;
  band: string | null;
  previous_score: string | null;
  components: Record<string, any> | null;
  computed_at: Date | null;
}

export interface SnapshotRow {
  day: string;
  score: string;
  band: string;
  components: Record<string, any>;
}

export interface UsageDay {
  day: string;
  events: number;
  features: number;
  users: number;
  top: string | null;
}

export interface MessageItem extends MessageFields {
  contact_id: string;
  contact_name: string | null;
  at: Date;
}

export interface EngagementItem {
  id: string;
  message_id: string | null;
  contact_id: string | null;
  contact_name: string | null;
  kind: string;
  machine: boolean;
  classification: string | null;
  url: string | null;
  data: Record<string, unknown>;
  template: string | null;
  at: Date;
}

export interface SurveyItem {
  message_id: string;
  contact_name: string | null;
  kind: string;
  score: number;
  comment: string | null;
  machine: boolean;
  template: string | null;
  at: Date;
}

export interface HandoffItem {
  id: string;
  journey_key: string | null;
  reason: string;
  status: string;
  assignee: string | null;
  outcome: string | null;
  at: Date;
}

export interface ContactEngagement {
  id: string;
  external_id: string;
  name: string | null;
  email: string | null;
  role: string | null;
  consent_marketing: boolean | null;
  sent: number;
  opens: number;
  clicks: number;
  machine: number;
  last_engagement: Date | null;
  suppressed: string | null;
}

/** Everything the account page shows, each part one indexed, account-scoped query. */
@Injectable()
export class AccountDetailRepository {
  private snapshotsTable: boolean | undefined;

  constructor(private readonly db: Db) {}

  async header(externalId: string): Promise<AccountHeader | undefined> {
    const [row] = await this.db.query<AccountHeader>(
      `SELECT a.id, a.external_id, a.name, a.phase, a.plan, a.mrr, a.seats, to_char(a.renewal_date, 'YYYY-MM-DD') AS renewal_date,
              to_char(a.contract_start, 'YYYY-MM-DD') AS contract_start, a.csm_owner, a.high_touch,
              h.score, h.band, h.previous_score, h.components, h.computed_at
         FROM accounts a LEFT JOIN account_health h ON h.account_id = a.id WHERE a.external_id = $1`,
      [externalId],
    );
    return row;
  }

  /** Daily health snapshots (oldest first), once the health engine's history table exists. */
  async snapshots(accountId: string, sinceDay: string): Promise<SnapshotRow[]> {
    if (this.snapshotsTable === undefined) {
      const [r] = await this.db.query<{ ok: boolean }>(`SELECT to_regclass('public.health_snapshots') IS NOT NULL AS ok`);
      this.snapshotsTable = r.ok;
    }
    if (!this.snapshotsTable) return [];
    return this.db.query<SnapshotRow>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, score, band, components FROM health_snapshots
        WHERE account_id = $1 AND day >= $2::date ORDER BY day`,
      [accountId, sinceDay],
    );
  }

  async usageByDay(accountId: string, sinceDay: string): Promise<UsageDay[]> {
    return this.db.query<UsageDay>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, sum(count)::int AS events, count(DISTINCT event)::int AS features,
              count(DISTINCT contact_id) FILTER (WHERE contact_id <> 0)::int AS users,
              (array_agg(event ORDER BY count DESC))[1] AS top
         FROM event_rollups WHERE account_id = $1 AND day >= $2::date GROUP BY day ORDER BY day DESC`,
      [accountId, sinceDay],
    );
  }

  async messages(accountId: string, since: Date, limit: number): Promise<MessageItem[]> {
    return this.db.query<MessageItem>(
      `SELECT m.id, m.contact_id, c.name AS contact_name, m.to_email, m.journey_key, m.step_id, m.template, m.status, m.reason, m.subject,
              coalesce(m.sent_at, m.created_at) AS at
         FROM messages m LEFT JOIN contacts c ON c.id = m.contact_id
        WHERE m.account_id = $1 AND m.created_at >= $2 ORDER BY m.created_at DESC LIMIT $3`,
      [accountId, since, limit],
    );
  }

  async engagement(accountId: string, since: Date, limit: number): Promise<EngagementItem[]> {
    return this.db.query<EngagementItem>(
      `SELECT e.id, e.message_id, e.contact_id, c.name AS contact_name, e.kind, e.machine, e.classification, e.url, e.data,
              m.template, e.occurred_at AS at
         FROM engagement_events e LEFT JOIN contacts c ON c.id = e.contact_id LEFT JOIN messages m ON m.id = e.message_id
        WHERE e.account_id = $1 AND e.occurred_at >= $2 AND e.kind <> 'survey' ORDER BY e.occurred_at DESC LIMIT $3`,
      [accountId, since, limit],
    );
  }

  /** The answer that counts per surveyed message (every click on a survey link is also an engagement event, left out here). */
  async surveys(accountId: string, since: Date, limit: number): Promise<SurveyItem[]> {
    return this.db.query<SurveyItem>(
      `SELECT s.message_id, c.name AS contact_name, s.kind, s.score, s.comment, s.machine, m.template, s.answered_at AS at
         FROM survey_responses s LEFT JOIN contacts c ON c.id = s.contact_id LEFT JOIN messages m ON m.id = s.message_id
        WHERE s.account_id = $1 AND s.answered_at >= $2 ORDER BY s.answered_at DESC LIMIT $3`,
      [accountId, since, limit],
    );
  }

  async handoffs(accountId: string, limit: number): Promise<HandoffItem[]> {
    return this.db.query<HandoffItem>(
      `SELECT id, journey_key, reason, status, assignee, outcome, created_at AS at FROM handoffs
        WHERE account_id = $1 ORDER BY created_at DESC LIMIT $2`,
      [accountId, limit],
    );
  }

  /** Contacts of the account with what they did with the email they got. */
  async contacts(accountId: string, limit: number): Promise<ContactEngagement[]> {
    return this.db.query<ContactEngagement>(
      `WITH members AS (
         SELECT contact_id AS id, role FROM account_contacts WHERE account_id = $1
         UNION SELECT id, NULL FROM contacts WHERE account_id = $1
       ), people AS (
         SELECT DISTINCT ON (c.id) c.id, c.external_id, c.name, c.email, coalesce(mb.role, c.role) AS role, c.consent_marketing
           FROM members mb JOIN contacts c ON c.id = mb.id ORDER BY c.id, mb.role NULLS LAST LIMIT $2
       )
       SELECT p.*,
              (SELECT count(*)::int FROM messages m WHERE m.contact_id = p.id AND m.status = 'sent') AS sent,
              (SELECT count(*)::int FROM engagement_events e WHERE e.contact_id = p.id AND e.kind = 'open' AND NOT e.machine) AS opens,
              (SELECT count(*)::int FROM engagement_events e WHERE e.contact_id = p.id AND e.kind = 'click' AND NOT e.machine) AS clicks,
              (SELECT count(*)::int FROM engagement_events e WHERE e.contact_id = p.id AND e.kind IN ('open','click') AND e.machine) AS machine,
              (SELECT max(e.occurred_at) FROM engagement_events e WHERE e.contact_id = p.id AND e.kind IN ('open','click','survey') AND NOT e.machine) AS last_engagement,
              (SELECT s.reason FROM suppressions s WHERE s.email = lower(p.email)) AS suppressed
         FROM people p ORDER BY p.name NULLS LAST, p.id`,
      [accountId, limit],
    );
  }
}
