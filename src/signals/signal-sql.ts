import { Signal, SubjectKind } from './signal';
import { SqlParams } from './sql-params';

/**
 * SQL expressions for the row being evaluated. For an account subject `account` is the
 * account id and `accountRow` the accounts alias; for a contact subject `contact` is the
 * contact id too. Set-based trigger evaluation and per-subject lookups both go through here.
 */
export interface SubjectRef {
  subject: SubjectKind;
  account: string;
  accountRow: string;
  contact?: string;
}

/**
 * A scalar SQL expression computing the signal for the current row, reading only
 * `event_rollups` (never raw events). `today` is the placeholder of the clock's UTC date.
 */
export function signalSql(signal: Signal, ref: SubjectRef, params: SqlParams, today: string): string {
  const owner = ref.subject === 'contact' ? `r.contact_id = ${ref.contact}` : `r.account_id = ${ref.account}`;
  const window = (days: number, offset = 0) => {
    const hi = offset ? ` AND r.day <= ${today} - ${params.add(offset, 'int')}` : '';
    return `r.day > ${today} - ${params.add(days + offset, 'int')}${hi}`;
  };
  switch (signal.kind) {
    case 'event_count':
      return `(SELECT COALESCE(sum(r.count), 0)::int FROM event_rollups r WHERE ${owner} AND r.event = ${params.add(signal.event, 'text')} AND ${window(signal.days, signal.offsetDays)})`;
    case 'days_since_last':
      return `(${today} - (SELECT max(r.day) FROM event_rollups r WHERE ${owner} AND r.event = ${params.add(signal.event, 'text')}))`;
    case 'distinct_events': {
      const among = signal.events?.length ? ` AND r.event = ANY(${params.add(signal.events, 'text[]')})` : '';
      return `(SELECT count(DISTINCT r.event)::int FROM event_rollups r WHERE ${owner} AND ${window(signal.days, signal.offsetDays)}${among})`;
    }
    case 'active_contacts': {
      const ev = signal.event ? ` AND r.event = ${params.add(signal.event, 'text')}` : '';
      return `(SELECT count(DISTINCT r.contact_id)::int FROM event_rollups r WHERE r.account_id = ${ref.account} AND r.contact_id <> 0 AND ${window(signal.days, signal.offsetDays)}${ev})`;
    }
    case 'days_since_contract_start':
      return `(${today} - ${ref.accountRow}.contract_start)`;
    case 'days_until_renewal':
      return `(${ref.accountRow}.renewal_date - ${today})`;
  }
}
