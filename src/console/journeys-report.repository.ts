import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export interface JourneySummaryRow {
  journey_key: string;
  messages: number;
  sent: number;
  held_back: number;
  last_at: Date;
}

export interface MessageFunnel {
  sent: number;
  opened: number;
  clicked: number;
  recipients: number;
}

export interface TemplateEngagementRow {
  template: string;
  locale: string;
  sent: number;
  opened: number;
  clicked: number;
  machine_only: number;
}

export interface HeldBackRow {
  status: string;
  reason: string | null;
  count: number;
}

/** Report figures of a journey that come from the outbox and engagement tables. */
@Injectable()
export class JourneysReportRepository {
  constructor(private readonly db: Db) {}

  async journeys(): Promise<JourneySummaryRow[]> {
    return this.db.query<JourneySummaryRow>(
      `SELECT journey_key, count(*)::int AS messages, count(*) FILTER (WHERE status = 'sent')::int AS sent,
              count(*) FILTER (WHERE status IN ('capped','deferred','suppressed'))::int AS held_back, max(created_at) AS last_at
         FROM messages WHERE journey_key IS NOT NULL GROUP BY journey_key ORDER BY journey_key`,
    );
  }

  /** Sent messages, and how many of them a person opened or clicked (machine activity excluded). */
  async funnel(journeyKey: string): Promise<MessageFunnel> {
    const [row] = await this.db.query<MessageFunnel>(
      `SELECT count(*)::int AS sent, count(DISTINCT m.contact_id)::int AS recipients,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM engagement_events e WHERE e.message_id = m.id AND e.kind IN ('open','click') AND NOT e.machine))::int AS opened,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM engagement_events e WHERE e.message_id = m.id AND e.kind = 'click' AND NOT e.machine))::int AS clicked
         FROM messages m WHERE m.journey_key = $1 AND m.status = 'sent'`,
      [journeyKey],
    );
    return row;
  }

  async perTemplate(journeyKey: string): Promise<TemplateEngagementRow[]> {
    return this.db.query<TemplateEngagementRow>(
      `SELECT m.template, m.locale, count(*)::int AS sent,
              count(*) FILTER (WHERE x.human_open)::int AS opened, count(*) FILTER (WHERE x.human_click)::int AS clicked,
              count(*) FILTER (WHERE x.machine AND NOT x.human_open)::int AS machine_only
         FROM messages m,
              LATERAL (SELECT coalesce(bool_or(e.kind IN ('open','click') AND NOT e.machine), false) AS human_open,
                              coalesce(bool_or(e.kind = 'click' AND NOT e.machine), false) AS human_click,
                              coalesce(bool_or(e.machine), false) AS machine
                         FROM engagement_events e WHERE e.message_id = m.id) x
        WHERE m.journey_key = $1 AND m.status = 'sent'
        GROUP BY m.template, m.locale ORDER BY m.template, m.locale`,
      [journeyKey],
    );
  }

  /** What caps, quiet hours, suppressions and holdout kept from being sent, with the reasons. */
  async heldBack(journeyKey: string): Promise<HeldBackRow[]> {
    return this.db.query<HeldBackRow>(
      `SELECT status, reason, count(*)::int AS count FROM messages
        WHERE journey_key = $1 AND status IN ('capped','deferred','suppressed','failed','review','holdout')
        GROUP BY status, reason ORDER BY count DESC, status, reason LIMIT 100`,
      [journeyKey],
    );
  }
}
