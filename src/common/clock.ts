/**
 * Time is injected: domain logic asks the Clock, never `new Date()`, so tests and
 * `journeys simulate` can move through weeks in seconds.
 */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** A clock that only moves when told to (tests, simulation, compressed soak runs). */
export class VirtualClock extends Clock {
  private current: number;

  constructor(start: Date | string | number = Date.now()) {
    super();
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date | string | number): void {
    this.current = new Date(at).getTime();
  }

  advance(ms: number): Date {
    this.current += ms;
    return this.now();
  }

  advanceDays(days: number): Date {
    return this.advance(days * 86_400_000);
  }
}

/**
 * Virtual time running at `speed` times real time: `start` at the real instant `anchor`
 * (epoch ms). Processes given the same three values agree on the time, so an API process
 * and several worker processes can share one compressed month (the soak benchmark).
 * Only used when CLOCK=scaled is set explicitly (see README, "Configuration").
 */
export class ScaledClock extends Clock {
  constructor(
    readonly start: number,
    readonly speed: number,
    readonly anchor: number,
    private readonly realNow: () => number = Date.now,
  ) {
    super();
  }

  now(): Date {
    return new Date(this.start + (this.realNow() - this.anchor) * this.speed);
  }
}

/** Which clock a process runs on: real time (always, unless CLOCK=scaled is set explicitly). */
export type ClockSetting = { mode: 'system' } | { mode: 'scaled'; start: number; speed: number; anchor?: number };

/** The process's clock from its config; an unset anchor means "now" (one process on its own). */
export function clockFrom(setting: ClockSetting, realNow: () => number = Date.now): Clock {
  if (setting.mode === 'system') return new SystemClock();
  return new ScaledClock(setting.start, setting.speed, setting.anchor ?? realNow(), realNow);
}

/**
 * A formatter of instants that remembers its last two answers by `key` of the time: a batch of
 * steps formats the same few instants (now, a due time) thousands of times, and `toISOString`
 * is slow. A NaN key (an invalid Date) never matches, so it throws as `toISOString` does.
 */
function remembering(key: (time: number) => number, format: (at: Date) => string): (at: Date) => string {
  let k1 = NaN;
  let v1 = '';
  let k2 = NaN;
  let v2 = '';
  return (at) => {
    const k = key(at.getTime());
    if (k === k1) return v1;
    if (k === k2) return v2;
    const v = format(at);
    k2 = k1;
    v2 = v1;
    k1 = k;
    v1 = v;
    return v;
  };
}

const dayOf = remembering((t) => Math.floor(t / 86_400_000), (at) => at.toISOString().slice(0, 10));
const isoOf = remembering((t) => t, (at) => at.toISOString());

/** The UTC calendar day of an instant, as YYYY-MM-DD (the granularity of usage rollups). */
export function utcDay(at: Date): string {
  return dayOf(at);
}

/** `at.toISOString()`, remembered for the instant last formatted (see `remembering`). */
export function isoTime(at: Date): string {
  return isoOf(at);
}
