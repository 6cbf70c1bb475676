import type { Band } from './health-model';

export interface SnapshotPoint {
  day: string;
  score: number;
  band: Band;
}

export interface BandChange {
  day: string;
  from: Band;
  to: Band;
}

export interface Trend {
  /** First and last day of the history the trend is read from. */
  from: string | null;
  to: string | null;
  /** Latest score minus the earliest score in the window (null with fewer than two days). */
  scoreChange: number | null;
  /** Latest score minus the lowest and highest in the window. */
  min: number | null;
  max: number | null;
  bandChanges: BandChange[];
  direction: 'up' | 'down' | 'flat' | 'unknown';
}

/**
 * The trend of a history of daily snapshots (oldest first). A change of less than a point
 * is "flat": day-to-day noise in ratios should not read as a trend.
 */
export function trendOf(history: ReadonlyArray<SnapshotPoint>): Trend {
  if (!history.length) return { from: null, to: null, scoreChange: null, min: null, max: null, bandChanges: [], direction: 'unknown' };
  const first = history[0];
  const last = history[history.length - 1];
  const bandChanges: BandChange[] = [];
  for (let i = 1; i < history.length; i++) {
    if (history[i].band !== history[i - 1].band) bandChanges.push({ day: history[i].day, from: history[i - 1].band, to: history[i].band });
  }
  const change = history.length > 1 ? Math.round((last.score - first.score) * 100) / 100 : null;
  return {
    from: first.day,
    to: last.day,
    scoreChange: change,
    min: Math.min(...history.map((h) => h.score)),
    max: Math.max(...history.map((h) => h.score)),
    bandChanges,
    direction: change === null ? 'unknown' : change >= 1 ? 'up' : change <= -1 ? 'down' : 'flat',
  };
}
