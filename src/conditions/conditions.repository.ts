import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { signalName, SubjectKind } from '../signals/signal';
import { SignalsService } from '../signals/signals.service';
import { SqlParams } from '../signals/sql-params';
import { Condition } from './condition';
import { compileConditionSql, ConditionRef } from './compile-sql';
import { AccountFacts, ContactFacts, Facts, HealthFacts, RequiredFacts } from './facts';

/** SQL references for the subject row aliases used by every statement below. */
export const ACCOUNT_REF: ConditionRef = { subject: 'account', account: 'a.id', accountRow: 'a' };
export const CONTACT_REF: ConditionRef = {
  subject: 'contact',
  account: 'c.account_id',
  accountRow: 'a',
  contact: 'c.id',
  contactRow: 'c',
  membershipRole: '(SELECT m.role FROM account_contacts m WHERE m.account_id = c.account_id AND m.contact_id = c.id)',
};

export const SUBJECT_FROM: Record<SubjectKind, string> = {
  account: 'accounts a',
  contact: 'contacts c LEFT JOIN accounts a ON a.id = c.account_id',
};

export interface LoadedFacts extends Facts {
  timezone: string | null;
}

/**
 * Set-based condition evaluation and facts for the in-memory evaluator. Contacts are
 * evaluated in their primary account (the account their usage is attributed to).
 */
@Injectable()
export class ConditionsRepository {
  constructor(
    private readonly db: Db,
    private readonly signals: SignalsService,
  ) {}

  /** Ids of the subjects for which the condition holds on `today` (one statement). */
  async matching(subject: SubjectKind, cond: Condition, today: string, ids?: string[]): Promise<string[]> {
    const params = new SqlParams([today]);
    // `today` is a column of a one-row subquery, so the statement is valid even when no predicate reads it.
    const where = compileConditionSql(cond, subject === 'account' ? ACCOUNT_REF : CONTACT_REF, params, 'p.today');
    const idCol = subject === 'account' ? 'a.id' : 'c.id';
    const only = ids ? ` AND ${idCol} = ANY(${params.add(ids, 'bigint[]')})` : '';
    const rows = await this.db.query<{ id: string }>(`SELECT ${idCol} AS id FROM ${SUBJECT_FROM[subject]} CROSS JOIN (SELECT $1::date AS today) p WHERE ${where}${only} ORDER BY ${idCol}`, params.values);
    return rows.map((r) => String(r.id));
  }

  /** Facts for many subjects: one query for rows, one batched SignalsService call for signals. */
  async facts(subject: SubjectKind, ids: string[], need: RequiredFacts, today: string): Promise<Map<string, LoadedFacts>> {
    const out = new Map<string, LoadedFacts>();
    if (!ids.length) return out;
    const health = `h.score AS h_score, h.band AS h_band, h.previous_score AS h_previous_score, h.previous_band AS h_previous_band,
      to_char((h.band_changed_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS h_changed`;
    const accountCols = `a.id AS a_id, a.external_id AS a_external_id, a.name AS a_name, a.plan AS a_plan, a.mrr::float8 AS a_mrr, a.seats AS a_seats,
      a.size_segment AS a_size_segment, a.region AS a_region, a.phase AS a_phase, to_char(a.contract_start, 'YYYY-MM-DD') AS a_contract_start,
      to_char(a.renewal_date, 'YYYY-MM-DD') AS a_renewal_date, a.csm_owner AS a_csm_owner, a.high_touch AS a_high_touch,
      a.timezone AS a_timezone, a.locale AS a_locale, a.traits AS a_traits`;
    const sql =
      subject === 'account'
        ? `SELECT a.id, ${accountCols}, ${health} FROM accounts a LEFT JOIN account_health h ON h.account_id = a.id WHERE a.id = ANY($1::bigint[])`
        : `SELECT c.id, ${accountCols}, ${health}, c.external_id AS c_external_id, c.email AS c_email, c.name AS c_name,
             COALESCE(${CONTACT_REF.membershipRole}, c.role) AS c_role, c.locale AS c_locale, c.timezone AS c_timezone,
             c.consent_marketing AS c_consent, c.traits AS c_traits
             FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id LEFT JOIN account_health h ON h.account_id = a.id
            WHERE c.id = ANY($1::bigint[])`;
    const rows = await this.db.query<Record<string, unknown>>(sql, [ids]);
    const values = need.signals.length ? await this.signals.evaluate(subject, ids, need.signals, new Date(today + 'T12:00:00Z')) : new Map<string, (number | null)[]>();
    for (const r of rows) {
      const id = String(r.id);
      const account: AccountFacts | null =
        r.a_id === null
          ? null
          : {
              external_id: r.a_external_id as string,
              name: r.a_name as string,
              plan: r.a_plan as string | null,
              mrr: r.a_mrr as number | null,
              seats: r.a_seats as number | null,
              size_segment: r.a_size_segment as string | null,
              region: r.a_region as string | null,
              phase: r.a_phase as string,
              contract_start: r.a_contract_start as string | null,
              renewal_date: r.a_renewal_date as string | null,
              csm_owner: r.a_csm_owner as string | null,
              high_touch: r.a_high_touch as boolean,
              timezone: r.a_timezone as string | null,
              locale: r.a_locale as string | null,
              traits: (r.a_traits as Record<string, unknown>) ?? {},
            };
      const contact: ContactFacts | null | undefined =
        subject === 'contact'
          ? {
              external_id: r.c_external_id as string,
              email: r.c_email as string | null,
              name: r.c_name as string | null,
              role: r.c_role as string | null,
              locale: r.c_locale as string | null,
              timezone: r.c_timezone as string | null,
              consent: r.c_consent as boolean | null,
              traits: (r.c_traits as Record<string, unknown>) ?? {},
            }
          : undefined;
      const h: HealthFacts | null =
        r.h_band === null || r.h_band === undefined
          ? null
          : {
              score: r.h_score === null ? null : Number(r.h_score),
              band: r.h_band as string,
              previous_score: r.h_previous_score === null ? null : Number(r.h_previous_score),
              previous_band: r.h_previous_band as string | null,
              band_changed_day: r.h_changed as string | null,
            };
      const sig = values.get(id);
      const signals: Record<string, number | null> = {};
      need.signals.forEach((s, i) => (signals[signalName(s)] = sig ? sig[i] : null));
      out.set(id, {
        today,
        account,
        ...(contact !== undefined ? { contact } : {}),
        health: h,
        signals,
        timezone: (contact?.timezone as string | null) ?? (account?.timezone as string | null) ?? null,
      });
    }
    return out;
  }
}
