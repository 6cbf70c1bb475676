import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export interface MatchedMessage {
  id: string;
  contactId: string;
  accountId: string | null;
  how: 'touchline_id' | 'message_id_header' | 'email';
}

/** Matching provider reports to our messages, and the figures of the sending-health guard. */
@Injectable()
export class BouncesRepository {
  constructor(private readonly db: Db) {}

  /**
   * Our id header first (checked against the address, so a wrong id cannot attribute a
   * bounce to someone else), then the Message-ID, then the latest mail sent to the address.
   */
  async match(email: string, touchlineId: string | undefined, messageIdHeader: string | undefined, before: Date): Promise<MatchedMessage | null> {
    if (touchlineId) {
      const [r] = await this.db.query(`SELECT id::text, contact_id::text, account_id::text FROM messages WHERE id = $1 AND lower(to_email) = $2`, [touchlineId, email]);
      if (r) return { id: r.id, contactId: r.contact_id, accountId: r.account_id, how: 'touchline_id' };
    }
    if (messageIdHeader) {
      const bare = messageIdHeader.trim().replace(/^<|>$/g, '');
      const [r] = await this.db.query(
        `SELECT id::text, contact_id::text, account_id::text FROM messages WHERE message_id_header IN ($1, $2) AND lower(to_email) = $3 LIMIT 1`,
        [bare, `<${bare}>`, email],
      );
      if (r) return { id: r.id, contactId: r.contact_id, accountId: r.account_id, how: 'message_id_header' };
    }
    const [r] = await this.db.query(
      `SELECT id::text, contact_id::text, account_id::text FROM messages
        WHERE lower(to_email) = $1 AND sent_at IS NOT NULL AND sent_at <= $2 ORDER BY sent_at DESC LIMIT 1`,
      // Providers' clocks drift: allow an hour after the reported time.
      [email, new Date(before.getTime() + 3600_000)],
    );
    return r ? { id: r.id, contactId: r.contact_id, accountId: r.account_id, how: 'email' } : null;
  }

  /** A contact for an address that matched no message (the event still counts toward the address). */
  async contactByEmail(email: string): Promise<{ contactId: string; accountId: string | null } | null> {
    const [r] = await this.db.query(`SELECT id::text, account_id::text FROM contacts WHERE lower(email) = $1 ORDER BY id LIMIT 1`, [email]);
    return r ? { contactId: r.id, accountId: r.account_id } : null;
  }

  async softBounces(email: string, since: Date): Promise<number> {
    const [r] = await this.db.query(`SELECT count(*)::int AS n FROM engagement_events WHERE email = $1 AND kind = 'soft_bounce' AND occurred_at >= $2`, [email, since]);
    return r.n;
  }

  /** Complaints (one per address) and messages sent in the window. */
  async complaintFigures(since: Date, until: Date): Promise<{ complaints: number; sent: number }> {
    const [r] = await this.db.query(
      `SELECT (SELECT count(DISTINCT coalesce(email, contact_id::text)) FROM engagement_events WHERE kind = 'complaint' AND occurred_at >= $1 AND occurred_at <= $2)::int AS complaints,
              (SELECT count(*) FROM messages WHERE sent_at >= $1 AND sent_at <= $2)::int AS sent`,
      [since, until],
    );
    return { complaints: r.complaints, sent: r.sent };
  }

  /** Inserts the pause unless one of that kind is already in force; true when this call paused. */
  async pause(kind: 'marketing' | 'all', reason: string, details: Record<string, unknown>, at: Date): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO sending_pauses (kind, reason, details, created_at) VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT (kind) DO NOTHING RETURNING kind`,
      [kind, reason, JSON.stringify(details), at],
    );
    return rows.length > 0;
  }

  async pauses(): Promise<Array<{ kind: string; reason: string; details: Record<string, unknown>; created_at: Date }>> {
    return this.db.query(`SELECT kind, reason, details, created_at FROM sending_pauses ORDER BY kind`);
  }

  async resume(kind: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM sending_pauses WHERE kind = $1 RETURNING kind`, [kind])).length > 0;
  }
}
