/**
 * Usage signals over the daily rollups. Windows are whole UTC days: "the last N days"
 * is today and the N-1 days before it (never later than today, so an `--as-of` in the
 * past ignores what came after); `offsetDays` shifts the window into the past
 * (e.g. days 15-28 ago, to compare with the last 14).
 *
 * `of` chooses whose activity a contact subject reads: its own (default) or its
 * account's. Account subjects always read the account.
 *
 * `engagement` counts email engagement (from `messages` / `engagement_events`):
 * `received` = messages sent, `opened` = distinct messages opened or clicked (a click
 * implies an open even when images were blocked), `clicked` = distinct messages clicked.
 * Machine-generated opens/clicks (scanners, proxies) are excluded unless `includeMachine`.
 */
export type Signal =
  | { kind: 'event_count'; event: string; days: number; offsetDays?: number; of?: SubjectKind }
  | { kind: 'days_since_last'; event: string; of?: SubjectKind }
  | { kind: 'distinct_events'; days: number; events?: string[]; offsetDays?: number; of?: SubjectKind }
  | { kind: 'active_contacts'; days: number; event?: string; offsetDays?: number }
  | { kind: 'days_since_contract_start' }
  | { kind: 'days_until_renewal' }
  | EngagementSignal;

export interface EngagementSignal {
  kind: 'engagement';
  action: EngagementAction;
  days: number;
  journey?: string;
  template?: string;
  includeMachine?: boolean;
  of?: SubjectKind;
}

export type EngagementAction = 'received' | 'opened' | 'clicked';

export type SignalKind = Signal['kind'];

export type SubjectKind = 'account' | 'contact';

/** A stable name for a signal, used as a column alias, a facts key and in reports. */
export function signalName(s: Signal): string {
  const off = 'offsetDays' in s && s.offsetDays ? `@-${s.offsetDays}d` : '';
  const of = 'of' in s && s.of ? `${s.of}.` : '';
  switch (s.kind) {
    case 'event_count':
      return `${of}count(${s.event},${s.days}d${off})`;
    case 'days_since_last':
      return `${of}days_since_last(${s.event})`;
    case 'distinct_events':
      return `${of}distinct_events(${s.days}d${off}${s.events ? ':' + s.events.join('|') : ''})`;
    case 'active_contacts':
      return `active_contacts(${s.days}d${off}${s.event ? ':' + s.event : ''})`;
    case 'days_since_contract_start':
      return 'days_since_contract_start';
    case 'days_until_renewal':
      return 'days_until_renewal';
    case 'engagement': {
      const by = [s.journey ? `journey=${s.journey}` : '', s.template ? `template=${s.template}` : '', s.includeMachine ? 'machine' : ''].filter(Boolean);
      return `${of}${s.action}(${s.days}d${by.length ? ',' + by.join(',') : ''})`;
    }
  }
}
