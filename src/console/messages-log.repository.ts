import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { SqlParams } from '../signals/sql-params';
import type { MessageFields } from './row-fields';
import type { MessageCursor, MessageFilter } from './messages-filter';

export interface MessageLogRow extends MessageFields {
  created_at: Date;
  sent_at: Date | null;
  contact_name: string | null;
  contact_external_id: string | null;
  account_external_id: string | null;
  account_name: string | null;
  opens: number;
  clicks: number;
}

export interface MessageDetail extends MessageLogRow {
  template_version: string | null;
  locale: string;
  category: string;
  context: Record<string, unknown>;
  attempts: number;
  last_error: string | null;
  smtp_response: string | null;
  scheduled_at: Date;
  contact_id: string;
  account_id: string | null;
}

export interface MessageEngagement {
  kind: string;
  machine: boolean;
  classification: string | null;
  url: string | null;
  user_agent: string | null;
  data: Record<string, unknown>;
  occurred_at: Date;
}

const COLS = `m.id, m.created_at, m.sent_at, m.to_email, c.name AS contact_name, c.external_id AS contact_external_id,
  a.external_id AS account_external_id, a.name AS account_name, m.journey_key, m.step_id, m.template, m.status, m.reason, m.subject`;

/** The searchable message log: keyset paging on (created_at, id), newest first. */
@Injectable()
export class MessagesLogRepository {
  constructor(private readonly db: Db) {}

  async page(filter: MessageFilter, cursor: MessageCursor | null, limit: number): Promise<MessageLogRow[]> {
    const p = new SqlParams();
    const where: string[] = [];
    if (filter.recipient) {
      if (filter.recipient.includes('@')) where.push(`lower(m.to_email) = lower(${p.add(filter.recipient)})`);
      else where.push(`m.to_email ILIKE ${p.add(`%${filter.recipient.replace(/[\\%_]/g, (x) => '\\' + x)}%`)}`);
    }
    if (filter.account) where.push(`m.account_id = (SELECT id FROM accounts WHERE external_id = ${p.add(filter.account)})`);
    if (filter.journey) where.push(`m.journey_key = ${p.add(filter.journey)}`);
    if (filter.template) where.push(`m.template = ${p.add(filter.template)}`);
    if (filter.status) where.push(`m.status = ${p.add(filter.status)}`);
    if (filter.from) where.push(`m.created_at >= ${p.add(filter.from, 'date')}::timestamptz`);
    if (filter.to) where.push(`m.created_at < (${p.add(filter.to, 'date')} + 1)::timestamptz`);
    if (cursor) where.push(`(m.created_at, m.id) < (${p.add(cursor.at, 'timestamptz')}, ${p.add(cursor.id, 'bigint')})`);
    return this.db.query<MessageLogRow>(
      `SELECT ${COLS},
              (SELECT count(*)::int FROM engagement_events e WHERE e.message_id = m.id AND e.kind = 'open' AND NOT e.machine) AS opens,
              (SELECT count(*)::int FROM engagement_events e WHERE e.message_id = m.id AND e.kind = 'click' AND NOT e.machine) AS clicks
         FROM (SELECT * FROM messages m ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                ORDER BY m.created_at DESC, m.id DESC LIMIT ${p.add(limit, 'int')}) m
         LEFT JOIN contacts c ON c.id = m.contact_id LEFT JOIN accounts a ON a.id = m.account_id
        ORDER BY m.created_at DESC, m.id DESC`,
      p.values,
    );
  }

  async detail(id: string): Promise<MessageDetail | undefined> {
    if (!/^\d{1,19}$/.test(id)) return undefined;
    const [row] = await this.db.query<MessageDetail>(
      `SELECT ${COLS}, m.template_version, m.locale, m.category, m.context, m.attempts, m.last_error, m.smtp_response, m.scheduled_at,
              m.contact_id, m.account_id, 0 AS opens, 0 AS clicks
         FROM messages m LEFT JOIN contacts c ON c.id = m.contact_id LEFT JOIN accounts a ON a.id = m.account_id WHERE m.id = $1`,
      [id],
    );
    return row;
  }

  async engagement(messageId: string): Promise<MessageEngagement[]> {
    return this.db.query<MessageEngagement>(
      `SELECT kind, machine, classification, url, user_agent, data, occurred_at FROM engagement_events WHERE message_id = $1 ORDER BY occurred_at`,
      [messageId],
    );
  }

  /** Journeys and templates that have messages, for the search form's choices. */
  async facets(): Promise<{ journeys: string[]; templates: string[] }> {
    const loose = (col: string) =>
      `WITH RECURSIVE t AS ((SELECT ${col} AS v FROM messages WHERE ${col} IS NOT NULL ORDER BY ${col} LIMIT 1)
        UNION ALL SELECT (SELECT ${col} FROM messages WHERE ${col} > t.v ORDER BY ${col} LIMIT 1) FROM t WHERE t.v IS NOT NULL)
       SELECT v FROM t WHERE v IS NOT NULL LIMIT 300`;
    const [journeys, templates] = await Promise.all([this.db.query<{ v: string }>(loose('journey_key')), this.db.query<{ v: string }>(loose('template'))]);
    return { journeys: journeys.map((r) => r.v), templates: templates.map((r) => r.v) };
  }
}
