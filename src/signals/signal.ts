/**
 * Usage signals over the daily rollups. Windows are whole UTC days: "the last N days"
 * is today and the N-1 days before it; `offsetDays` shifts the window into the past
 * (e.g. days 15-28 ago, to compare with the last 14).
 */
export type Signal =
  | { kind: 'event_count'; event: string; days: number; offsetDays?: number }
  | { kind: 'days_since_last'; event: string }
  | { kind: 'distinct_events'; days: number; events?: string[]; offsetDays?: number }
  | { kind: 'active_contacts'; days: number; event?: string; offsetDays?: number }
  | { kind: 'days_since_contract_start' }
  | { kind: 'days_until_renewal' };

export type SignalKind = Signal['kind'];

export type SubjectKind = 'account' | 'contact';

/** A stable name for a signal, used as a column alias and in reports. */
export function signalName(s: Signal): string {
  const off = 'offsetDays' in s && s.offsetDays ? `@-${s.offsetDays}d` : '';
  switch (s.kind) {
    case 'event_count':
      return `count(${s.event},${s.days}d${off})`;
    case 'days_since_last':
      return `days_since_last(${s.event})`;
    case 'distinct_events':
      return `distinct_events(${s.days}d${off}${s.events ? ':' + s.events.join('|') : ''})`;
    case 'active_contacts':
      return `active_contacts(${s.days}d${off}${s.event ? ':' + s.event : ''})`;
    case 'days_since_contract_start':
      return 'days_since_contract_start';
    case 'days_until_renewal':
      return 'days_until_renewal';
  }
}
