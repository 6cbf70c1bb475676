import { parseCondition } from '../../src/conditions/parse';
import { Facts } from '../../src/conditions/facts';
import { Journey } from '../../src/journeys/journey';
import { localParts, nextLocalWindow, nextScheduleTime } from '../../src/journeys/local-time';
import { bucket, decide, isHoldout } from '../../src/journeys/step-machine';

const facts = (signals: Record<string, number | null> = {}): Facts => ({ today: '2026-11-20', account: { phase: 'adoption', traits: {} }, signals, enteredDay: '2026-11-18' });

const journey: Journey = {
  key: 'j', name: 'j', phase: 'adoption', priority: 50, status: 'active', subject: { type: 'contact' }, audience: { type: 'const', value: true }, segments: [],
  trigger: { type: 'event', event: 'login' }, reentry: { policy: 'never' }, holdoutPercent: 10,
  goal: { condition: parseCondition('occurred(report_created, since entry)'), events: ['report_created'] },
  steps: [
    { id: 'send', type: 'send', template: 't', category: 'marketing', next: 'wait' },
    { id: 'wait', type: 'wait_until', event: 'login', condition: parseCondition('count(login, 7d) >= 3'), timeoutMs: 3 * 86_400_000, onMet: 'done', onTimeout: 'ab' },
    { id: 'ab', type: 'split', arms: [{ name: 'A', percent: 30, next: 'done' }, { name: 'B', percent: 70, next: 'done' }] },
    { id: 'done', type: 'exit' },
  ],
};
const pos = (stepId: string, startedAt = '2026-11-18T00:00:00Z') => ({ stepId, enteredAt: new Date('2026-11-18T00:00:00Z'), stepStartedAt: new Date(startedAt), holdout: false });
const ctx = (now: string, f: Facts, extra = {}) => ({ now: new Date(now), facts: f, subjectKey: 'contact:1', timezone: 'Asia/Tokyo', ...extra });

describe('step machine', () => {
  it('a reached goal ends the journey at any step, with the deciding values', () => {
    const d = decide(journey, pos('wait'), ctx('2026-11-20T00:00:00Z', facts({ 'days_since_last(report_created)': 1 })));
    expect(d).toEqual({ action: 'goal', reason: expect.stringContaining('last 1 days ago') });
  });

  it('wait-until: met by the event, by the condition, or times out onto its own path', () => {
    const none = facts({ 'days_since_last(report_created)': null, 'count(login,7d)': 1 });
    expect(decide(journey, pos('wait'), ctx('2026-11-19T00:00:00Z', none, { eventsSinceStepStart: ['login'] }))).toMatchObject({ action: 'goto', next: 'done', outcome: 'met' });
    expect(decide(journey, pos('wait'), ctx('2026-11-19T00:00:00Z', { ...none, signals: { ...none.signals, 'count(login,7d)': 3 } }))).toMatchObject({ action: 'goto', outcome: 'met', reason: expect.stringContaining('count(login, 7d) is 3') });
    expect(decide(journey, pos('wait'), ctx('2026-11-19T00:00:00Z', none))).toEqual({ action: 'wait', until: new Date('2026-11-21T00:00:00Z'), reason: expect.any(String) });
    expect(decide(journey, pos('wait'), ctx('2026-11-21T00:00:00Z', none))).toMatchObject({ action: 'goto', next: 'ab', outcome: 'timeout' });
  });

  it('split arms and holdouts are deterministic per (journey, subject) and follow the percentages', () => {
    const counts = { A: 0, B: 0 };
    let held = 0;
    for (let i = 0; i < 20_000; i++) {
      const d = decide(journey, pos('ab'), { ...ctx('2026-11-20T00:00:00Z', facts()), subjectKey: `contact:${i}`, skipGoal: true });
      if (d.action !== 'goto') throw new Error('expected goto');
      counts[d.outcome as 'A' | 'B']++;
      if (isHoldout(journey, `contact:${i}`)) held++;
    }
    expect(counts.A / 20_000).toBeGreaterThan(0.28);
    expect(counts.A / 20_000).toBeLessThan(0.32);
    expect(held / 20_000).toBeGreaterThan(0.09);
    expect(held / 20_000).toBeLessThan(0.11);
    expect(bucket('j', 'contact:7', 'split:ab')).toBe(bucket('j', 'contact:7', 'split:ab'));
  });

  it('sends carry the holdout flag; an exit ends the journey', () => {
    expect(decide(journey, { ...pos('send'), holdout: true }, ctx('2026-11-20T00:00:00Z', facts()))).toMatchObject({ action: 'send', holdout: true, next: 'wait' });
    expect(decide(journey, pos('done'), ctx('2026-11-20T00:00:00Z', facts()))).toMatchObject({ action: 'exit', outcome: 'exited' });
  });
});

describe('local time windows', () => {
  it('waits until the next weekday window in the recipient timezone', () => {
    // Friday 2026-11-20 20:00 in Tokyo → Monday 09:00 JST = 00:00Z.
    const at = nextLocalWindow(new Date('2026-11-20T11:00:00Z'), { from: '09:00', to: '11:00', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] }, 'Asia/Tokyo');
    expect(at.toISOString()).toBe('2026-11-23T00:00:00.000Z');
    // Inside the window already: no wait.
    expect(nextLocalWindow(new Date('2026-11-20T00:30:00Z'), { from: '09:00', to: '11:00' }, 'Asia/Tokyo').toISOString()).toBe('2026-11-20T00:30:00.000Z');
  });

  it('is correct across DST changes (New York, spring forward and fall back)', () => {
    // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT. 09:00 local is 13:00Z after the change, 14:00Z before.
    expect(nextLocalWindow(new Date('2026-03-07T20:00:00Z'), { from: '09:00', to: '10:00' }, 'America/New_York').toISOString()).toBe('2026-03-08T13:00:00.000Z');
    expect(nextLocalWindow(new Date('2026-03-06T20:00:00Z'), { from: '09:00', to: '10:00' }, 'America/New_York').toISOString()).toBe('2026-03-07T14:00:00.000Z');
    // 2026-11-01: back to EST.
    expect(nextLocalWindow(new Date('2026-10-31T20:00:00Z'), { from: '09:00', to: '10:00' }, 'America/New_York').toISOString()).toBe('2026-11-01T14:00:00.000Z');
  });

  it('handles zones across the date line', () => {
    // Kiritimati is UTC+14: its Monday 09:00 is Sunday 19:00Z.
    const at = nextLocalWindow(new Date('2026-11-22T00:00:00Z'), { from: '09:00', weekdays: ['mon'] }, 'Pacific/Kiritimati');
    expect(at.toISOString()).toBe('2026-11-22T19:00:00.000Z');
    expect(localParts(at, 'Pacific/Kiritimati')).toMatchObject({ weekday: 'mon', hour: 9 });
    // Pago Pago is UTC-11: its Monday 09:00 is Monday 20:00Z.
    expect(nextLocalWindow(new Date('2026-11-22T00:00:00Z'), { from: '09:00', weekdays: ['mon'] }, 'Pacific/Pago_Pago').toISOString()).toBe('2026-11-23T20:00:00.000Z');
  });

  it('computes recurring schedules (monthly, clamped to short months) and one-offs', () => {
    const monthly = { every: 'month' as const, at: '10:00', dayOfMonth: 31, timezone: 'Asia/Tokyo' };
    expect(nextScheduleTime(monthly, new Date('2026-02-01T00:00:00Z'), 'UTC')!.toISOString()).toBe('2026-02-28T01:00:00.000Z');
    expect(nextScheduleTime({ once: '2026-12-10T10:00:00+09:00' }, new Date('2026-12-11T00:00:00Z'), 'UTC')).toBeUndefined();
  });
});
