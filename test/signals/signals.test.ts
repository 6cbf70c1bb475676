import { SignalsService } from '../../src/signals/signals.service';
import { startTestApp, TestApp } from '../support/app';

/**
 * Known data, hand-counted. Today is 2026-11-20 (UTC). Account "acme" (contract start
 * 2026-10-01, renewal 2027-01-19) has two contacts:
 *   u-a: login on 11-20, 11-18, 11-10 (x2), 10-25; report_created on 11-19
 *   u-b: login on 11-05; export_csv on 11-20
 */
describe('signals service', () => {
  let t: TestApp;
  let signals: SignalsService;
  let acme: string;
  let ua: string;

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-11-20T12:00:00Z' });
    signals = t.app.get(SignalsService);
    const batch = [
      { type: 'group', userId: 'u-a', groupId: 'acme', traits: { contractStart: '2026-10-01', renewalDate: '2027-01-19' } },
      { type: 'group', userId: 'u-b', groupId: 'acme' },
      ...[
        ['u-a', 'login', '2026-11-20T01:00:00Z'],
        ['u-a', 'login', '2026-11-18T01:00:00Z'],
        ['u-a', 'login', '2026-11-10T01:00:00Z'],
        ['u-a', 'login', '2026-11-10T05:00:00Z'],
        ['u-a', 'login', '2026-10-25T01:00:00Z'],
        ['u-a', 'report_created', '2026-11-19T01:00:00Z'],
        ['u-b', 'login', '2026-11-05T01:00:00Z'],
        ['u-b', 'export_csv', '2026-11-20T02:00:00Z'],
      ].map(([userId, event, timestamp]) => ({ type: 'track', userId, event, timestamp })),
    ];
    const res = await t.request('POST', '/v1/batch', { body: { batch }, key: 'ingest' });
    expect(res.body.rejected).toEqual([]);
    acme = (await t.db.query(`SELECT id FROM accounts WHERE external_id = 'acme'`))[0].id;
    ua = (await t.db.query(`SELECT id FROM contacts WHERE external_id = 'u-a'`))[0].id;
  });
  afterAll(() => t.close());

  it('counts events in windows of whole days for an account and a contact', async () => {
    const s = [
      { kind: 'event_count', event: 'login', days: 1 },
      { kind: 'event_count', event: 'login', days: 7 },
      { kind: 'event_count', event: 'login', days: 11 },
      { kind: 'event_count', event: 'login', days: 30 },
      { kind: 'event_count', event: 'login', days: 7, offsetDays: 7 },
      { kind: 'event_count', event: 'never', days: 30 },
    ] as const;
    expect(await signals.forAccount(acme, [...s])).toEqual([1, 2, 4, 6, 2, 0]);
    expect(await signals.forContact(ua, [...s])).toEqual([1, 2, 4, 5, 2, 0]);
  });

  it('days since the last occurrence (null when never)', async () => {
    const s = [
      { kind: 'days_since_last', event: 'login' },
      { kind: 'days_since_last', event: 'report_created' },
      { kind: 'days_since_last', event: 'never' },
    ] as const;
    expect(await signals.forAccount(acme, [...s])).toEqual([0, 1, null]);
    const ub = (await t.db.query(`SELECT id FROM contacts WHERE external_id = 'u-b'`))[0].id;
    expect(await signals.forContact(ub, [{ kind: 'days_since_last', event: 'login' }])).toEqual([15]);
  });

  it('distinct events and active contacts in a window; contract and renewal days', async () => {
    expect(
      await signals.forAccount(acme, [
        { kind: 'distinct_events', days: 2 },
        { kind: 'distinct_events', days: 30, events: ['report_created', 'export_csv', 'workflow_created'] },
        { kind: 'active_contacts', days: 7 },
        { kind: 'active_contacts', days: 30 },
        { kind: 'active_contacts', days: 30, event: 'export_csv' },
        { kind: 'days_since_contract_start' },
        { kind: 'days_until_renewal' },
      ]),
    ).toEqual([3, 2, 2, 2, 1, 50, 60]);
  });

  it('evaluates many subjects in one call and moves with the clock', async () => {
    const map = await signals.evaluate('account', [acme, '999999'], [{ kind: 'event_count', event: 'login', days: 7 }], new Date('2026-11-26T00:00:00Z'));
    expect([...map.entries()]).toEqual([[acme, [1]]]);
  });

  it('summarises an account over the review API', async () => {
    const res = await t.request('GET', '/api/accounts/acme', { key: 'review' });
    expect(res.status).toBe(200);
    expect(res.body.signals.signals).toMatchObject({ 'count(login,7d)': 2, 'days_since_last(login)': 0, 'active_contacts(7d)': 2, days_until_renewal: 60 });
    expect(res.body.contacts.map((c: { external_id: string }) => c.external_id).sort()).toEqual(['u-a', 'u-b']);
    expect((await t.request('GET', '/api/accounts/nope', { key: 'review' })).status).toBe(404);
    expect((await t.request('GET', '/api/accounts/acme', { key: 'ingest' })).status).toBe(403);
  });
});
