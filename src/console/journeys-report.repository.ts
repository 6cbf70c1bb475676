import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export interface JourneySummaryRow {
  journey_key: string;
  messages: number;
  sent: number;
  held_back: number;
  last_day: string | null;
}

export interface MessageFunnel {
  sent: number;
  opened: number;
  clicked: number;
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

/**
 * Report figures of journeys from the outbox and engagement, read from the console's
 * message summary (refreshed by the console worker), so a report adds up a few hundred
 * rows instead of every message ever sent.
 */
@Injectable()
export class JourneysReportRepository {
  constructor(private readonly db: Db) {}

  async journeys(): Promise<JourneySummaryRow[]> {
    return this.db.query<JourneySummaryRow>(
      `SELECT journey_key, sum(messages)::int AS messages, coalesce(sum(messages) FILTER (WHERE status = 'sent'), 0)::int AS sent,
              coalesce(sum(messages) FILTER (WHERE status IN ('capped','deferred','suppressed')), 0)::int AS held_back, to_char(max(day), 'YYYY-MM-DD') AS last_day
         FROM console_message_stats GROUP BY journey_key ORDER BY journey_key`,
    );
  }

  /** Sent messages, and how many of them a person opened or clicked (machine activity excluded). */
  async funnel(journeyKey: string): Promise<MessageFunnel> {
    const [row] = await this.db.query<MessageFunnel>(
      `SELECT coalesce(sum(messages), 0)::int AS sent, coalesce(sum(opened), 0)::int AS opened, coalesce(sum(clicked), 0)::int AS clicked
         FROM console_message_stats WHERE journey_key = $1 AND status = 'sent'`,
      [journeyKey],
    );
    return row;
  }

  async perTemplate(journeyKey: string): Promise<TemplateEngagementRow[]> {
    return this.db.query<TemplateEngagementRow>(
      `SELECT template, locale, sum(messages)::int AS sent, sum(opened)::int AS opened, sum(clicked)::int AS clicked, sum(machine_only)::int AS machine_only
         FROM console_message_stats WHERE journey_key = $1 AND status = 'sent' GROUP BY template, locale ORDER BY template, locale`,
      [journeyKey],
    );
  }

  /** What caps, quiet hours, suppressions and holdout kept from being sent, with the reasons. */
  async heldBack(journeyKey: string): Promise<HeldBackRow[]> {
    return this.db.query<HeldBackRow>(
      `SELECT status, nullif(reason, '') AS reason, sum(messages)::int AS count FROM console_message_stats
        WHERE journey_key = $1 AND status IN ('capped','deferred','suppressed','failed','review','holdout')
        GROUP BY status, reason ORDER BY count DESC, status, reason LIMIT 100`,
      [journeyKey],
    );
  }
}
