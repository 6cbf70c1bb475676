import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export interface AccountRow {
  id: string;
  external_id: string;
  name: string;
  plan: string | null;
  mrr: string | null;
  size_segment: string | null;
  region: string | null;
  phase: string;
  contract_start: string | null;
  renewal_date: string | null;
  csm_owner: string | null;
  high_touch: boolean;
  seats: number | null;
  timezone: string | null;
  locale: string | null;
  traits: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export interface ContactRow {
  id: string;
  external_id: string;
  account_id: string | null;
  email: string | null;
  name: string | null;
  role: string | null;
  locale: string | null;
  timezone: string | null;
  traits: Record<string, unknown>;
  consent_marketing: boolean | null;
  consent_source: string | null;
  consent_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The account and contact columns a render context is built from (buildContext): no timestamps to parse, nothing unread. */
export type ContextAccountRow = Pick<AccountRow, 'id' | 'external_id' | 'name' | 'plan' | 'mrr' | 'phase' | 'contract_start' | 'renewal_date' | 'csm_owner' | 'high_touch' | 'seats' | 'timezone' | 'locale' | 'traits'>;
export type ContextContactRow = Pick<ContactRow, 'id' | 'external_id' | 'email' | 'name' | 'role' | 'locale' | 'timezone' | 'traits'>;
const CONTEXT_ACCOUNT_COLS = `id, external_id, name, plan, mrr, phase, to_char(contract_start, 'YYYY-MM-DD') AS contract_start,
  to_char(renewal_date, 'YYYY-MM-DD') AS renewal_date, csm_owner, high_touch, seats, timezone, locale, traits`;
const CONTEXT_CONTACT_COLS = 'id, external_id, email, name, role, locale, timezone, traits';

const ACCOUNT_COLS = `id, external_id, name, plan, mrr, size_segment, region, phase, to_char(contract_start, 'YYYY-MM-DD') AS contract_start,
  to_char(renewal_date, 'YYYY-MM-DD') AS renewal_date, csm_owner, high_touch, seats, timezone, locale, traits, created_at, updated_at`;

@Injectable()
export class AccountsRepository {
  constructor(private readonly db: Db) {}

  async accountByExternalId(externalId: string): Promise<AccountRow | undefined> {
    const [row] = await this.db.query<AccountRow>(`SELECT ${ACCOUNT_COLS} FROM accounts WHERE external_id = $1`, [externalId]);
    return row;
  }

  async accountById(id: string): Promise<AccountRow | undefined> {
    const [row] = await this.db.query<AccountRow>(`SELECT ${ACCOUNT_COLS} FROM accounts WHERE id = $1`, [id]);
    return row;
  }

  /** Many accounts by id in one query, with the columns of a render context (the engine builds them for a whole batch). */
  async accountsByIds(ids: string[]): Promise<ContextAccountRow[]> {
    if (!ids.length) return [];
    return this.db.query<ContextAccountRow>(`SELECT ${CONTEXT_ACCOUNT_COLS} FROM accounts WHERE id = ANY($1::bigint[])`, [ids]);
  }

  /** Many contacts by id in one query, with the columns of a render context. */
  async contactsByIds(ids: string[]): Promise<ContextContactRow[]> {
    if (!ids.length) return [];
    return this.db.query<ContextContactRow>(`SELECT ${CONTEXT_CONTACT_COLS} FROM contacts WHERE id = ANY($1::bigint[])`, [ids]);
  }

  async contactByExternalId(externalId: string): Promise<ContactRow | undefined> {
    const [row] = await this.db.query<ContactRow>('SELECT * FROM contacts WHERE external_id = $1', [externalId]);
    return row;
  }

  async contactById(id: string): Promise<ContactRow | undefined> {
    const [row] = await this.db.query<ContactRow>('SELECT * FROM contacts WHERE id = $1', [id]);
    return row;
  }

  /** Contacts that belong to an account (primary or by membership). */
  async contactsOfAccount(accountId: string): Promise<(ContactRow & { membership_role: string | null })[]> {
    return this.db.query(
      `SELECT c.*, m.role AS membership_role FROM account_contacts m JOIN contacts c ON c.id = m.contact_id
        WHERE m.account_id = $1
       UNION ALL
       SELECT c.*, NULL FROM contacts c
        WHERE c.account_id = $1 AND NOT EXISTS (SELECT 1 FROM account_contacts m WHERE m.account_id = $1 AND m.contact_id = c.id)
       ORDER BY id`,
      [accountId],
    );
  }

  async counts(): Promise<{ accounts: number; contacts: number; events: number }> {
    const [row] = await this.db.query<{ accounts: string; contacts: string; events: string }>(
      `SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM contacts) AS contacts,
              (SELECT count(*) FROM events) AS events`,
    );
    return { accounts: Number(row.accounts), contacts: Number(row.contacts), events: Number(row.events) };
  }
}
