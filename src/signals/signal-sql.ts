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

/** The last day (up to today) `signal.event` happened for the current row of `ref`: one backward index probe. */
export function lastDaySql(signal: Extract<Signal, { kind: 'days_since_last' }>, ref: SubjectRef, params: SqlParams, today: string): string {
  return `(SELECT max(r.day) FROM event_rollups r WHERE ${ownerSql(signal, ref)} AND r.event = ${params.add(signal.event, 'text')} AND r.day <= ${today})`;
}

/** The rollups of the row's owner: the contact (a contact subject, unless the signal is `of account`) or the account. */
function ownerSql(signal: Signal, ref: SubjectRef): string {
  const byContact = ref.subject === 'contact' && !('of' in signal && signal.of === 'account');
  // `contact_id <> 0` lets the planner use the partial index on (contact_id, event, day).
  return byContact ? `r.contact_id = ${ref.contact} AND r.contact_id <> 0` : `r.account_id = ${ref.account}`;
}

/**
 * A scalar SQL expression computing the signal for the current row, reading only
 * `event_rollups` (never raw events) or, for engagement, `messages`/`engagement_events`.
 * `today` is the placeholder of the clock's UTC date.
 */
export function signalSql(signal: Signal, ref: SubjectRef, params: SqlParams, today: string): string {
  const byContact = ref.subject === 'contact' && !('of' in signal && signal.of === 'account');
  const owner = ownerSql(signal, ref);
  const window = (days: number, offset = 0) => {
    const hi = offset ? ` AND r.day <= ${today} - ${params.add(offset, 'int')}` : ` AND r.day <= ${today}`;
    return `r.day > ${today} - ${params.add(days + offset, 'int')}${hi}`;
  };
  switch (signal.kind) {
    case 'event_count':
      return `(SELECT COALESCE(sum(r.count), 0)::int FROM event_rollups r WHERE ${owner} AND r.event = ${params.add(signal.event, 'text')} AND ${window(signal.days, signal.offsetDays)})`;
    case 'days_since_last':
      return `(${today} - ${lastDaySql(signal, ref, params, today)})`;
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
    case 'engagement': {
      const msgOwner = byContact ? `m.contact_id = ${ref.contact}` : `m.account_id = ${ref.account}`;
      const evOwner = byContact ? `e.contact_id = ${ref.contact}` : `e.account_id = ${ref.account}`;
      const filters =
        (signal.journey !== undefined ? ` AND m.journey_key = ${params.add(signal.journey, 'text')}` : '') +
        (signal.template !== undefined ? ` AND m.template = ${params.add(signal.template, 'text')}` : '');
      const days = params.add(signal.days, 'int');
      if (signal.action === 'received') {
        return `(SELECT count(*)::int FROM messages m WHERE ${msgOwner} AND m.status = 'sent' AND (m.sent_at AT TIME ZONE 'UTC')::date > ${today} - ${days} AND (m.sent_at AT TIME ZONE 'UTC')::date <= ${today}${filters})`;
      }
      const kinds = signal.action === 'opened' ? `e.kind IN ('open','click')` : `e.kind = 'click'`;
      const machine = signal.includeMachine ? '' : ' AND NOT e.machine';
      return `(SELECT count(DISTINCT e.message_id)::int FROM engagement_events e JOIN messages m ON m.id = e.message_id WHERE ${evOwner} AND ${kinds}${machine} AND (e.occurred_at AT TIME ZONE 'UTC')::date > ${today} - ${days} AND (e.occurred_at AT TIME ZONE 'UTC')::date <= ${today}${filters})`;
    }
  }
}
