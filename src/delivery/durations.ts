/** Durations in configuration: `90s`, `15m`, `6h`, `5d`, `2w` (or plain milliseconds). */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration (use e.g. 30s, 15m, 6h, 5d)`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 'ms'];
  if (!(ms > 0)) throw new Error(`"${text}" must be longer than zero`);
  return Math.round(ms);
}

export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= UNITS[unit] && ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
