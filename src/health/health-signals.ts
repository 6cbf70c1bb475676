import type { SqlParams } from '../signals/sql-params';
import type { Band } from './health-model';

/**
 * Health as signals for the condition language (triggers, branches, goals): scalar SQL
 * expressions over `account_health` and `health_snapshots` for the account whose id is the
 * SQL expression `account`, in the same shape as `signalSql` (bind parameters only).
 * `today` is the placeholder of the clock's UTC date.
 *
 * - health_score: the current score (0-100), null before the first recompute
 * - health_band: 'green' | 'yellow' | 'red', null before the first recompute
 * - health_score_change: current score minus the score of the latest snapshot at least
 *   `days` days old (null when there is none): "dropped by 15 points in 30 days" is `<= -15`
 * - health_band_changed: true when, within the last `days` days, a daily snapshot's band
 *   differs from the snapshot before it (optionally only changes `to` and/or `from` a band):
 *   "band fell to red in the last 7 days" is `{ days: 7, to: 'red' }`
 */
export type HealthSignal =
  | { kind: 'health_score' }
  | { kind: 'health_band' }
  | { kind: 'health_score_change'; days: number }
  | { kind: 'health_band_changed'; days: number; to?: Band; from?: Band };

export function healthSignalSql(signal: HealthSignal, account: string, params: SqlParams, today: string): string {
  switch (signal.kind) {
    case 'health_score':
      return `(SELECT h.score::float8 FROM account_health h WHERE h.account_id = ${account})`;
    case 'health_band':
      return `(SELECT h.band FROM account_health h WHERE h.account_id = ${account})`;
    case 'health_score_change':
      return `((SELECT h.score FROM account_health h WHERE h.account_id = ${account})
        - (SELECT s.score FROM health_snapshots s WHERE s.account_id = ${account} AND s.day <= ${today} - ${params.add(signal.days, 'int')} ORDER BY s.day DESC LIMIT 1))::float8`;
    case 'health_band_changed': {
      const to = signal.to ? ` AND w.band = ${params.add(signal.to, 'text')}` : '';
      const from = signal.from ? ` AND w.prev = ${params.add(signal.from, 'text')}` : '';
      // Snapshots are daily and pruned by retention, so this reads at most a few hundred index rows.
      return `EXISTS (SELECT 1 FROM (SELECT s.day, s.band, lag(s.band) OVER (ORDER BY s.day) AS prev
                        FROM health_snapshots s WHERE s.account_id = ${account} AND s.day <= ${today}) w
                WHERE w.day > ${today} - ${params.add(signal.days, 'int')} AND w.prev IS NOT NULL AND w.prev <> w.band${to}${from})`;
    }
  }
}
