import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clockFrom, ScaledClock, SystemClock } from '../../src/common/clock';
import { loadConfig } from '../../src/config/config';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-clock-'));

describe('virtual clock for separate processes (CLOCK=scaled)', () => {
  it('is never on by default: the service runs on real time', () => {
    const c = loadConfig({ DATA_DIR: tmp() });
    expect(c.clock).toEqual({ mode: 'system' });
    expect(clockFrom(c.clock)).toBeInstanceOf(SystemClock);
  });

  it('refuses clock settings without CLOCK=scaled, and CLOCK=scaled without a start', () => {
    expect(() => loadConfig({ DATA_DIR: tmp(), CLOCK_START: '2026-11-01T00:00:00Z' })).toThrow(/CLOCK_START: only used with CLOCK=scaled/);
    expect(() => loadConfig({ DATA_DIR: tmp(), CLOCK_SPEED: '100' })).toThrow(/CLOCK_SPEED: only used with CLOCK=scaled/);
    expect(() => loadConfig({ DATA_DIR: tmp(), CLOCK: 'scaled' })).toThrow(/CLOCK_START: required with CLOCK=scaled/);
    expect(() => loadConfig({ DATA_DIR: tmp(), CLOCK: 'fast' })).toThrow(/CLOCK: expected system or scaled \(got "fast"\)/);
    expect(() => loadConfig({ DATA_DIR: tmp(), CLOCK: 'scaled', CLOCK_START: '1 Nov 2026' })).toThrow(/CLOCK_START: expected an ISO 8601 instant with a zone/);
    expect(() => loadConfig({ DATA_DIR: tmp(), CLOCK: 'scaled', CLOCK_START: '2026-11-01T00:00:00Z', CLOCK_SPEED: '-2' })).toThrow(/CLOCK_SPEED: expected a positive number/);
  });

  it('parses start, speed and anchor (ISO or epoch milliseconds)', () => {
    const c = loadConfig({ DATA_DIR: tmp(), CLOCK: 'scaled', CLOCK_START: '2026-11-01T00:00:00+09:00', CLOCK_SPEED: '2880', CLOCK_ANCHOR: '1763900000000' });
    expect(c.clock).toEqual({ mode: 'scaled', start: Date.parse('2026-10-31T15:00:00Z'), speed: 2880, anchor: 1763900000000 });
  });

  it('runs at speed from the start, and processes given the same settings agree on the time', () => {
    let real = 1_000_000;
    const setting = { mode: 'scaled' as const, start: Date.parse('2026-11-20T03:00:00Z'), speed: 2880, anchor: 1_000_000 };
    const api = clockFrom(setting, () => real);
    const worker = new ScaledClock(setting.start, setting.speed, setting.anchor, () => real);
    expect(api.now().toISOString()).toBe('2026-11-20T03:00:00.000Z');
    real += 30_000; // 30 real seconds at 2880x: one virtual day
    expect(api.now().toISOString()).toBe('2026-11-21T03:00:00.000Z');
    expect(worker.now().getTime()).toBe(api.now().getTime());
    real += 15 * 60_000 - 30_000; // a 15-minute run: 30 virtual days
    expect(worker.now().toISOString()).toBe('2026-12-20T03:00:00.000Z');
  });

  it('starts at CLOCK_START when no anchor is given (one process on its own)', () => {
    const real = 5_000;
    const c = clockFrom({ mode: 'scaled', start: Date.parse('2026-01-01T00:00:00Z'), speed: 60 }, () => real);
    expect(c.now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});
