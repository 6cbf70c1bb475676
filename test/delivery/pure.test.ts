import { checkCaps, parseCaps } from '../../src/delivery/caps';
import { parseDuration } from '../../src/delivery/durations';
import { Candidate, decide, GatePolicy } from '../../src/delivery/gate';
import { IllegalTransition, MESSAGE_STATUSES, transition, TRANSITIONS } from '../../src/delivery/message-state';
import { nextSendMoment, parseSendWindow, zonedInstant } from '../../src/delivery/send-window';
import { classifySendError, retryDelay } from '../../src/delivery/smtp-errors';

const H = 3_600_000;
const D = 24 * H;

describe('message state machine', () => {
  it('allows exactly the listed edges', () => {
    expect(transition('queued', 'claim')).toBe('sending');
    expect(transition('deferred', 'claim')).toBe('sending');
    expect(transition('sending', 'accepted')).toBe('sent');
    expect(transition('sending', 'temporary_failure')).toBe('queued');
    expect(transition('sending', 'permanent_failure')).toBe('failed');
    expect(transition('sending', 'lease_expired_ambiguous_review')).toBe('review');
    expect(transition('review', 'requeued')).toBe('queued');
    expect(() => transition('sent', 'claim')).toThrow(IllegalTransition);
    expect(() => transition('queued', 'accepted')).toThrow('a queued message cannot take "accepted"');
    expect(() => transition('holdout', 'claim')).toThrow(IllegalTransition);
    // Final states have no way out.
    for (const status of ['sent', 'failed', 'suppressed', 'capped', 'holdout'] as const) {
      for (const event of Object.keys(TRANSITIONS) as Array<keyof typeof TRANSITIONS>) expect(() => transition(status, event)).toThrow(IllegalTransition);
    }
    for (const t of Object.values(TRANSITIONS)) expect(MESSAGE_STATUSES).toContain(t.to);
  });
});

describe('send window across time zones and DST', () => {
  const weekdays = parseSendWindow('Mon-Fri 09:00-18:00');

  it('parses specs and reports bad ones', () => {
    expect(parseSendWindow('always')).toBeNull();
    expect(parseSendWindow('Mon-Fri 09:00-12:00, Mon-Fri 13:00-18:00; Sat 10:00-12:00')).toHaveLength(3);
    expect(() => parseSendWindow('Mon-Fri 18:00-09:00')).toThrow('must end after it starts');
    expect(() => parseSendWindow('Mon-Fry 09:00-18:00')).toThrow('unknown day');
    expect(() => parseSendWindow('weekdays')).toThrow('expected days and hours');
    expect(parseSendWindow('Fri-Mon 10:00-11:00')![0].days).toEqual(new Set([5, 6, 0, 1]));
  });

  it('keeps a moment inside the window and moves one outside to the next opening', () => {
    // 2026-11-20 is a Friday. 03:00Z = 12:00 in Tokyo: open.
    expect(nextSendMoment(new Date('2026-11-20T03:00:00Z'), 'Asia/Tokyo', weekdays).toISOString()).toBe('2026-11-20T03:00:00.000Z');
    // Friday 19:00 Tokyo (10:00Z) → Monday 09:00 Tokyo = Monday 00:00Z.
    expect(nextSendMoment(new Date('2026-11-20T10:00:00Z'), 'Asia/Tokyo', weekdays).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    // The same instant is Friday 05:00 in New York (EST, UTC-5) → Friday 09:00 EST = 14:00Z.
    expect(nextSendMoment(new Date('2026-11-20T10:00:00Z'), 'America/New_York', weekdays).toISOString()).toBe('2026-11-20T14:00:00.000Z');
    // Just before the end is open; the end itself is closed.
    expect(nextSendMoment(new Date('2026-11-20T08:59:59Z'), 'Asia/Tokyo', weekdays).toISOString()).toBe('2026-11-20T08:59:59.000Z');
    expect(nextSendMoment(new Date('2026-11-20T09:00:00Z'), 'Asia/Tokyo', weekdays).toISOString()).toBe('2026-11-23T00:00:00.000Z');
  });

  it('is right on both sides of a DST change', () => {
    // US spring forward: Sunday 2026-03-08. Saturday night 22:00 EST → Monday 09:00 EDT = 13:00Z.
    expect(nextSendMoment(new Date('2026-03-08T03:00:00Z'), 'America/New_York', weekdays).toISOString()).toBe('2026-03-09T13:00:00.000Z');
    // Friday 2026-03-06 20:00 EST → Monday 09:00 EDT (offset changed over the weekend).
    expect(nextSendMoment(new Date('2026-03-07T01:00:00Z'), 'America/New_York', weekdays).toISOString()).toBe('2026-03-09T13:00:00.000Z');
    // EU fall back: Sunday 2026-10-25. Saturday → Monday 09:00 CET = 08:00Z (was CEST, UTC+2, on Friday).
    expect(nextSendMoment(new Date('2026-10-24T12:00:00Z'), 'Europe/Berlin', weekdays).toISOString()).toBe('2026-10-26T08:00:00.000Z');
    expect(nextSendMoment(new Date('2026-10-23T05:00:00Z'), 'Europe/Berlin', weekdays).toISOString()).toBe('2026-10-23T07:00:00.000Z');
    // A window starting inside the spring-forward gap (02:30 does not exist) opens at the wall
    // time shifted forward by the gap, 03:30 EDT (as Temporal's "compatible" disambiguation).
    const night = parseSendWindow('Sun 02:30-04:00');
    expect(nextSendMoment(new Date('2026-03-08T05:00:00Z'), 'America/New_York', night).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    // In the fall-back overlap (01:30 happens twice), the first one.
    expect(new Date(zonedInstant(Date.UTC(2026, 10, 1, 1, 30), 'America/New_York')).toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });
});

describe('frequency caps', () => {
  const rules = parseCaps('contact:2/7d, contact:1/1d');

  it('parses and reports bad specs', () => {
    expect(rules).toEqual([
      { scope: 'contact', limit: 2, windowMs: 7 * D },
      { scope: 'contact', limit: 1, windowMs: D },
    ]);
    expect(parseCaps('none')).toEqual([]);
    expect(() => parseCaps('person:1/1d')).toThrow('expected scope:limit/window');
    expect(() => parseCaps('contact:1/1y')).toThrow('is not a duration');
    expect(parseDuration('90s')).toBe(90_000);
  });

  it('answers when the oldest counted sends have left their windows', () => {
    const now = 100 * D;
    expect(checkCaps(now, rules, { contact: [], account: [] })).toEqual({ ok: true });
    expect(checkCaps(now, rules, { contact: [now - 2 * D], account: [] })).toEqual({ ok: true });
    // One today: the daily rule says tomorrow at the same time.
    expect(checkCaps(now, rules, { contact: [now - H], account: [] })).toMatchObject({ ok: false, rule: rules[1], allowedAt: now - H + D });
    // Two this week: the weekly rule, when the older one is 7 days old.
    expect(checkCaps(now, rules, { contact: [now - 3 * D, now - 5 * D], account: [] })).toMatchObject({ ok: false, rule: rules[0], allowedAt: now + 2 * D });
  });
});

describe('the gate before each send', () => {
  const now = Date.parse('2026-11-20T03:00:00Z'); // Friday noon in Tokyo
  const policy: GatePolicy = { window: parseSendWindow('Mon-Fri 09:00-18:00'), windowForOperational: false, caps: parseCaps('contact:1/1d'), capTtlMs: 3 * D };
  const c = (id: string, over: Partial<Candidate> = {}): Candidate => ({
    id, contactId: '1', accountId: '1', category: 'marketing', priority: 0, createdAt: now - H, expiresAt: null, scheduledAt: now - H,
    suppression: null, consentMarketing: true, timezone: 'Asia/Tokyo', ...over,
  });
  const facts = { now, contactSends: new Map(), accountSends: new Map(), competitors: [] };

  it('suppresses, defers to the window, lets operational mail through', () => {
    const d = decide(
      [
        c('1', { suppression: { scope: 'marketing', reason: 'unsubscribed' } }),
        c('2', { contactId: '2', consentMarketing: null }),
        c('3', { contactId: '3', timezone: 'America/New_York' }),
        c('4', { contactId: '4', category: 'operational', suppression: { scope: 'marketing', reason: 'unsubscribed' }, timezone: 'America/New_York' }),
        c('5', { contactId: '5', category: 'operational', suppression: { scope: 'all', reason: 'hard_bounce' } }),
      ],
      policy,
      facts,
    );
    const by = Object.fromEntries(d.map((x) => [x.id, x]));
    expect(by['1']).toMatchObject({ action: 'suppress', reason: 'address suppressed: unsubscribed' });
    expect(by['2']).toMatchObject({ action: 'suppress', reason: 'no marketing consent (never given)' });
    expect(by['3']).toMatchObject({ action: 'defer', until: Date.parse('2026-11-20T14:00:00Z') });
    expect(by['4']).toEqual({ id: '4', action: 'send' });
    expect(by['5']).toMatchObject({ action: 'suppress' });
  });

  it('gives the slot to the higher priority, in the batch or outside it, and expires what cannot wait', () => {
    const d = decide([c('10', { priority: 1 }), c('11', { priority: 5 })], policy, facts);
    expect(d.find((x) => x.id === '11')).toEqual({ id: '11', action: 'send' });
    // Deferred to the same time tomorrow (Saturday) → the next window opening, Monday 09:00 Tokyo.
    expect(d.find((x) => x.id === '10')).toMatchObject({ action: 'defer', until: Date.parse('2026-11-23T00:00:00Z'), reason: 'frequency cap contact:1/1d' });
    const outside = decide([c('12', { priority: 1 })], policy, { ...facts, competitors: [{ id: '99', contactId: '1', accountId: '1', priority: 9 }] });
    expect(outside[0]).toMatchObject({ action: 'defer', reason: 'frequency cap contact:1/1d (higher-priority message 99 goes first)' });
    const expiring = decide([c('13', { priority: 1, expiresAt: now + H })], policy, { ...facts, contactSends: new Map([['1', [now - H]]]) });
    expect(expiring[0]).toMatchObject({ action: 'cap_expired' });
    expect((expiring[0] as { reason: string }).reason).toContain('frequency cap contact:1/1d');
  });
});

describe('SMTP failures', () => {
  it('classifies replies', () => {
    expect(classifySendError({ code: 'ECONNECTION', message: 'connect ECONNREFUSED' }).kind).toBe('outage');
    expect(classifySendError({ code: 'EENVELOPE', responseCode: 451, response: '451 4.7.1 try later', command: 'RCPT TO' }).kind).toBe('temporary');
    expect(classifySendError({ code: 'EENVELOPE', responseCode: 421, response: '421 4.7.0 too many', command: 'RCPT TO' }).kind).toBe('temporary');
    expect(classifySendError({ code: 'ECONNECTION', responseCode: 421, response: '421 4.7.0 Too many connections', command: 'CONN' }).kind).toBe('temporary');
    expect(classifySendError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 no such user', command: 'RCPT TO' })).toMatchObject({ kind: 'permanent', code: 550, status: '5.1.1' });
    expect(classifySendError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.7.1 message blocked by policy', command: 'RCPT TO' }).kind).toBe('policy');
    expect(classifySendError({ code: 'EMESSAGE', responseCode: 552, response: '552 5.3.4 message too big', command: 'DATA' }).kind).toBe('rejected');
    expect(classifySendError({ code: 'EAUTH', responseCode: 535, response: '535 bad credentials', command: 'AUTH PLAIN' }).kind).toBe('outage');
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(retryDelay(1, 60_000, 3_600_000, () => 0.5)).toBe(60_000);
    expect(retryDelay(4, 60_000, 3_600_000, () => 0.5)).toBe(480_000);
    expect(retryDelay(30, 60_000, 3_600_000, () => 0.5)).toBe(3_600_000);
    expect(retryDelay(2, 60_000, 3_600_000, () => 0)).toBe(60_000);
    expect(retryDelay(2, 60_000, 3_600_000, () => 0.999)).toBeLessThan(180_000);
  });
});
