import { DemoService } from '../../src/demo/demo.service';
import { JourneysService } from '../../src/journeys/journeys.service';
import { formatReport } from '../../src/journeys/simulate-report';
import { startTestApp, TestApp } from '../support/app';

/**
 * Simulation on the demo data (seeded through the ingestion path). Expected entrants are
 * counted with hand-written SQL, independent of the condition compiler.
 */
const NOW = '2026-11-20T03:00:00Z';
const TODAY = '2026-11-20';

describe('journeys simulate on demo data', () => {
  let t: TestApp;
  let journeys: JourneysService;
  const written = async () => (await t.db.query(`SELECT (SELECT count(*) FROM messages) m, (SELECT count(*) FROM handoffs) h, (SELECT md5(string_agg(traits::text || phase, ',' ORDER BY id)) FROM accounts) a`))[0];

  beforeAll(async () => {
    t = await startTestApp({ now: NOW });
    await t.app.get(DemoService).seed({ accounts: 60, seed: 7 });
    journeys = t.app.get(JourneysService);
  }, 120_000);
  afterAll(() => t.close());

  it('adoption-no-login: who enters on day one, the emails, and a step-by-step path with reasons', async () => {
    const expected = await t.db.query<{ id: string }>(
      `SELECT c.id FROM contacts c JOIN accounts a ON a.id = c.account_id
        WHERE a.phase = 'adoption' AND NOT a.high_touch AND c.consent_marketing
          AND EXISTS (SELECT 1 FROM event_rollups r WHERE r.contact_id = c.id AND r.event = 'login' AND r.day <= $1::date)
          AND NOT EXISTS (SELECT 1 FROM event_rollups r WHERE r.contact_id = c.id AND r.event = 'login' AND r.day > $1::date - 14 AND r.day <= $1::date)
        ORDER BY c.id`,
      [TODAY],
    );
    expect(expected.length).toBeGreaterThan(3); // the demo has fading adoption accounts
    const before = await written();
    const one = expected[0].id;
    const ext = (await t.db.query(`SELECT external_id FROM contacts WHERE id = $1`, [one]))[0].external_id;
    const r = await journeys.simulate('adoption-no-login', { days: 14, contact: ext });

    expect(r.enteredByDay[TODAY]).toBe(expected.length);
    expect(r.reached['miss-you']).toBe(r.entered);
    // Everyone not held out gets the first email on the day they enter.
    const firstDay = r.emails['adoption-we-miss-you']?.[TODAY] ?? 0;
    expect(firstDay + (r.holdoutEmails['adoption-we-miss-you'] ?? 0)).toBeGreaterThanOrEqual(expected.length);
    // Nobody logs in during a dry run (no future events), so those who entered on day one time out after 7 days,
    // none clicked (no engagement recorded) and all take the spotlight path.
    expect(r.outcomes['wait-login'].timeout).toBeGreaterThanOrEqual(expected.length);
    expect(r.outcomes['clicked']).toEqual({ else: r.outcomes['wait-login'].timeout });
    expect(r.why['clicked → else'][0]).toContain('clicked(7d, journey=adoption-no-login) is 0');

    const path = r.paths[`contact:${one}`].map((p) => [p.step, p.action, p.outcome ?? '']);
    expect(path).toEqual([
      ['(entry)', 'enter', ''],
      ['miss-you', 'send', ''],
      ['wait-login', 'wait', ''],
      ['wait-login', 'goto', 'timeout'],
      ['clicked', 'goto', 'else'],
      ['spotlight', 'send', ''],
      ['back', 'exit', ''],
    ]);
    const lines = formatReport(r);
    expect(lines.join('\n')).toContain(`path of contact:${one}:`);
    expect(await written()).toEqual(before); // nothing written
  });

  it('replays an event trigger from the past: new users of established accounts', async () => {
    const asOf = new Date('2026-11-08T03:00:00Z');
    const expected = await t.db.query(
      `SELECT m.contact_id FROM account_contacts m JOIN contacts c ON c.id = m.contact_id JOIN accounts a ON a.id = c.account_id
        WHERE m.joined_at >= $1 AND m.joined_at < $2 AND a.phase = 'established' AND NOT a.high_touch AND c.consent_marketing`,
      [asOf, new Date(NOW)],
    );
    const r = await journeys.simulate('established-new-user', { days: 12, asOf });
    expect(expected.length).toBeGreaterThan(0); // the demo adds recent users to a few established accounts
    expect(r.entered).toBe(expected.length);
    expect(r.reached.welcome).toBe(r.entered);
    // Each entrant either got the welcome email or had already reached the goal when entering.
    const welcomed = Object.values(r.emails['established-new-user-welcome'] ?? {}).reduce((a, b) => a + b, 0);
    expect(welcomed).toBeGreaterThan(0);
    expect(welcomed).toBeLessThanOrEqual(r.entered);
  });

  it('per-account journeys count emails per recipient chosen by role', async () => {
    const r = await journeys.simulate('renewal-value-recap', { days: 120 });
    const accounts = await t.db.query(
      `SELECT a.id FROM accounts a WHERE a.renewal_date - 60 BETWEEN $1::date AND $1::date + 120
          AND NOT a.high_touch AND a.phase IN ('established','renewal')`,
      [TODAY],
    );
    expect(r.entered).toBe(accounts.length);
    const recipients = await t.db.query<{ n: string }>(
      `SELECT count(*) n FROM account_contacts m JOIN contacts c ON c.id = m.contact_id
        WHERE m.account_id = ANY($1::bigint[]) AND COALESCE(m.role, c.role) IN ('admin','owner') AND c.consent_marketing AND c.email IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM account_health h WHERE h.account_id = m.account_id AND h.band = 'red')`,
      [accounts.map((a: { id: string }) => a.id)],
    );
    const sent = Object.values(r.emails['renewal-value-recap'] ?? {}).reduce((a, b) => a + b, 0);
    expect(sent).toBe(Number(recipients[0].n));
    expect((r.outcomes.health?.then ?? 0) + (r.outcomes.health?.else ?? 0)).toBe(r.entered);
  });

  it('segments count and validation against the database catalog', async () => {
    const c = await journeys.segmentCount('tech-touch');
    const [n] = await t.db.query(`SELECT count(*) FILTER (WHERE NOT high_touch AND phase <> 'churned') AS n FROM accounts`);
    expect(c.accounts).toBe(Number(n.n));
    const v = await journeys.validate();
    // Event names come from the database (demo events); template names are checked once templates exist.
    expect(v.problems).toEqual([]);
    await expect(journeys.simulate('no-such-journey', { days: 1 })).rejects.toThrow('no valid journey "no-such-journey"');
  });
});
