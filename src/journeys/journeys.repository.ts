import { Injectable } from '@nestjs/common';
import { Condition } from '../conditions/condition';
import { compileConditionSql, ConditionRef } from '../conditions/compile-sql';
import { ConditionsRepository } from '../conditions/conditions.repository';
import { Db } from '../database/db';
import { SubjectKind } from '../signals/signal';
import { SqlParams } from '../signals/sql-params';
import { SimulationPort } from './simulate';

/** Read-only queries behind `journeys simulate` and `segments count` (never writes). */
@Injectable()
export class JourneysRepository implements SimulationPort {
  constructor(
    private readonly db: Db,
    private readonly conditions: ConditionsRepository,
  ) {}

  matching(subject: SubjectKind, cond: Condition, today: string, ids?: string[]) {
    return this.conditions.matching(subject, cond, today, ids);
  }

  facts(...args: Parameters<ConditionsRepository['facts']>) {
    return this.conditions.facts(...args);
  }

  async eventEntrants(event: string, from: Date, to: Date) {
    let rows: { contact_id: string | null; account_id: string | null; at: Date }[];
    if (event === 'contact_joined_account') {
      rows = await this.db.query(`SELECT contact_id, account_id, joined_at AS at FROM account_contacts WHERE joined_at >= $1 AND joined_at < $2 ORDER BY joined_at`, [from, to]);
    } else if (event === 'contact_created') {
      rows = await this.db.query(`SELECT id AS contact_id, account_id, created_at AS at FROM contacts WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at`, [from, to]);
    } else {
      rows = await this.db.query(
        `SELECT contact_id, account_id, occurred_at AS at FROM events WHERE type = 'track' AND name = $1 AND occurred_at >= $2 AND occurred_at < $3 ORDER BY occurred_at`,
        [event, from, to],
      );
    }
    return rows.map((r) => ({ contactId: r.contact_id === null ? null : String(r.contact_id), accountId: r.account_id === null ? null : String(r.account_id), at: new Date(r.at) }));
  }

  async dateEntrants(field: 'renewal_date' | 'contract_start', offsetDays: number, fromDay: string, toDay: string) {
    const col = field === 'renewal_date' ? 'renewal_date' : 'contract_start';
    const rows = await this.db.query<{ id: string; day: string }>(
      `SELECT id, to_char(${col} + $1::int, 'YYYY-MM-DD') AS day FROM accounts
        WHERE ${col} + $1::int BETWEEN $2::date AND $3::date ORDER BY 2, 1`,
      [offsetDays, fromDay, toDay],
    );
    return rows.map((r) => ({ accountId: String(r.id), day: r.day }));
  }

  /** Contacts of each account with one of the roles (membership role, else their own) satisfying `where`. */
  async recipients(accountIds: string[], roles: string[], where: Condition, today: string): Promise<Map<string, string[]>> {
    const params = new SqlParams([today, accountIds, roles]);
    const ref: ConditionRef = { subject: 'contact', account: 'm.account_id', accountRow: 'a', contact: 'c.id', contactRow: 'c', membershipRole: 'm.role' };
    const cond = compileConditionSql(where, ref, params, 'p.today');
    const rows = await this.db.query<{ account_id: string; contact_id: string }>(
      `SELECT m.account_id, c.id AS contact_id
         FROM account_contacts m JOIN contacts c ON c.id = m.contact_id JOIN accounts a ON a.id = m.account_id
        CROSS JOIN (SELECT $1::date AS today) p
        WHERE m.account_id = ANY($2::bigint[]) AND COALESCE(m.role, c.role) = ANY($3::text[]) AND c.email IS NOT NULL AND ${cond}
        ORDER BY 1, 2`,
      params.values,
    );
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(String(r.account_id), [...(out.get(String(r.account_id)) ?? []), String(r.contact_id)]);
    return out;
  }

  async trackedEvents(subject: SubjectKind, ids: string[], names: string[], from: Date, to: Date) {
    const col = subject === 'account' ? 'account_id' : 'contact_id';
    const rows = await this.db.query<{ id: string; name: string; at: Date }>(
      `SELECT ${col} AS id, name, occurred_at AS at FROM events
        WHERE type = 'track' AND ${col} = ANY($1::bigint[]) AND name = ANY($2::text[]) AND occurred_at >= $3 AND occurred_at <= $4`,
      [ids, names, from, to],
    );
    return rows.map((r) => ({ id: String(r.id), name: r.name, at: new Date(r.at) }));
  }

  /** Internal ids from external ids (for `--contact`). */
  async idOf(subject: SubjectKind, externalOrId: string): Promise<string | undefined> {
    const table = subject === 'account' ? 'accounts' : 'contacts';
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM ${table} WHERE external_id = $1 OR id::text = $1 LIMIT 1`, [externalOrId]);
    return rows[0] ? String(rows[0].id) : undefined;
  }

  async primaryAccountOf(contactId: string): Promise<string | undefined> {
    const rows = await this.db.query<{ account_id: string | null }>(`SELECT account_id FROM contacts WHERE id = $1`, [contactId]);
    return rows[0]?.account_id ? String(rows[0].account_id) : undefined;
  }

  async knownEventNames(): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>('SELECT name FROM event_names ORDER BY name');
    return rows.map((r) => r.name);
  }

  /** How many accounts and contacts a segment selects now. */
  async segmentCount(subject: SubjectKind, cond: Condition, today: string): Promise<{ accounts: number; contacts: number }> {
    const params = new SqlParams([today]);
    if (subject === 'account') {
      const where = compileConditionSql(cond, { subject: 'account', account: 'a.id', accountRow: 'a' }, params, 'p.today');
      const [r] = await this.db.query<{ accounts: string; contacts: string }>(
        `WITH s AS (SELECT a.id FROM accounts a CROSS JOIN (SELECT $1::date AS today) p WHERE ${where})
         SELECT (SELECT count(*) FROM s) AS accounts,
                (SELECT count(DISTINCT m.contact_id) FROM account_contacts m JOIN s ON s.id = m.account_id) AS contacts`,
        params.values,
      );
      return { accounts: Number(r.accounts), contacts: Number(r.contacts) };
    }
    const ref: ConditionRef = { subject: 'contact', account: 'c.account_id', accountRow: 'a', contact: 'c.id', contactRow: 'c', membershipRole: '(SELECT m.role FROM account_contacts m WHERE m.account_id = c.account_id AND m.contact_id = c.id)' };
    const where = compileConditionSql(cond, ref, params, 'p.today');
    const [r] = await this.db.query<{ accounts: string; contacts: string }>(
      `SELECT count(DISTINCT c.account_id) AS accounts, count(*) AS contacts
         FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id CROSS JOIN (SELECT $1::date AS today) p WHERE ${where}`,
      params.values,
    );
    return { accounts: Number(r.accounts), contacts: Number(r.contacts) };
  }
}
