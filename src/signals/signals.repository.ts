import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';
import { Signal, SubjectKind } from './signal';
import { GroupedSignals } from './signal-groups';
import { signalSql, SubjectRef } from './signal-sql';
import { SqlParams } from './sql-params';

export type SignalValues = (number | null)[];

/** One SQL path for signals: many subjects, many signals, one statement. */
@Injectable()
export class SignalsRepository {
  constructor(private readonly db: Db) {}

  async evaluate(subject: SubjectKind, ids: string[], signals: Signal[], today: string): Promise<Map<string, SignalValues>> {
    const out = new Map<string, SignalValues>();
    if (!ids.length) return out;
    const params = new SqlParams([ids, today]);
    const todayRef = '$2::date';
    const ref: SubjectRef =
      subject === 'account'
        ? { subject, account: 's.id', accountRow: 's' }
        : { subject, account: 's.account_id', accountRow: 'a', contact: 's.id' };
    // Windowed rollup signals in one pass over each subject's rollups (one GROUP BY per owner kind), the rest per row.
    const grouped = new GroupedSignals(params, todayRef, true);
    const cols = signals.map((sig, i) => `${grouped.column(sig, ref) ?? signalSql(sig, ref, params, todayRef)} AS s${i}`);
    const from = subject === 'account' ? 'accounts s' : 'contacts s LEFT JOIN accounts a ON a.id = s.account_id';
    const only = (owner: SubjectKind, column: string) =>
      owner === subject ? `${column} = ANY($1::bigint[])` : `${column} IN (SELECT o.account_id FROM contacts o WHERE o.id = ANY($1::bigint[]))`;
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT s.id${cols.length ? ', ' + cols.join(', ') : ''} FROM ${from}${grouped.joins(ref, only)} WHERE s.id = ANY($1::bigint[])`,
      params.values,
    );
    const names = signals.map((_, i) => `s${i}`);
    for (const row of rows) {
      const values: SignalValues = new Array(names.length);
      for (let i = 0; i < names.length; i++) {
        const v = row[names[i]];
        values[i] = v === null ? null : Number(v);
      }
      out.set(String(row.id), values);
    }
    return out;
  }

  /** Event names seen in a window, most frequent first (for summaries and "did you mean"). */
  async recentEvents(subject: SubjectKind, id: string, days: number, today: string): Promise<string[]> {
    const col = subject === 'account' ? 'account_id' : 'contact_id';
    const rows = await this.db.query<{ event: string }>(
      `SELECT r.event FROM event_rollups r WHERE r.${col} = $1 AND r.day > $2::date - $3::int
        GROUP BY r.event ORDER BY sum(r.count) DESC, r.event`,
      [id, today, days],
    );
    return rows.map((r) => r.event);
  }

  async knownEventNames(): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>('SELECT name FROM event_names ORDER BY name');
    return rows.map((r) => r.name);
  }
}
