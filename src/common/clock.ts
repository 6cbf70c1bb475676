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

/** The UTC calendar day of an instant, as YYYY-MM-DD (the granularity of usage rollups). */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}
