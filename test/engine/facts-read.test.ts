import { ACCOUNT_FIELDS } from '../../src/conditions/condition';
import { EnrollmentsRepository, FactsRead } from '../../src/engine/enrollments.repository';
import { batchRequirements, toFacts } from '../../src/engine/facts-builder';
import { cond, engineHarness, EngineHarness, journey, send } from './engine-support';

/**
 * The step runner's facts read returns the account and contact as plain columns (not whole
 * rows as JSON), with traits and health only when the batch's journeys read them. Proves the
 * values equal what the whole rows serialised as JSON held (the previous form) for every field
 * a condition can name — dates, numbers, booleans, nulls, traits — and that what is left out is
 * exactly what nothing of the batch reads.
 */
describe('engine: facts read', () => {
  let h: EngineHarness;
  let repo: EnrollmentsRepository;
  const ids: Record<string, string> = {};
  const ALL: FactsRead = { accountTraits: true, contactTraits: true, health: true };
  const NONE: FactsRead = { accountTraits: false, contactTraits: false, health: false };

  beforeAll(async () => {
    h = await engineHarness();
    repo = h.t.app.get(EnrollmentsRepository);
    const now = h.t.clock.now();
    const [full] = await h.q(
      `INSERT INTO accounts (external_id, name, plan, mrr, size_segment, region, phase, contract_start, renewal_date, csm_owner, high_touch, seats, timezone, locale, traits, created_at, updated_at)
       VALUES ('full', 'Full Co', 'growth', 1234.50, 'mid', 'emea', 'renewal', '2025-01-31', '2026-12-01', 'csm-tanaka', true, 42, 'Asia/Tokyo', 'ja', '{"tier": "gold", "n": 3, "nested": {"a": [1, 2]}}', $1, $1) RETURNING id`,
      [now],
    );
    const [bare] = await h.q(`INSERT INTO accounts (external_id, name, created_at, updated_at) VALUES ('bare', '', $1, $1) RETURNING id`, [now]);
    const [c1] = await h.q(
      `INSERT INTO contacts (external_id, account_id, email, name, role, locale, timezone, traits, consent_marketing, created_at, updated_at)
       VALUES ('ken', $1, 'ken@example.com', 'Ken', 'admin', 'ja', 'Asia/Tokyo', '{"seat": "pro"}', true, $2, $2) RETURNING id`,
      [full.id, now],
    );
    const [c2] = await h.q(`INSERT INTO contacts (external_id, account_id, created_at, updated_at) VALUES ('anon', $1, $2, $2) RETURNING id`, [bare.id, now]);
    await h.q(`INSERT INTO account_contacts (account_id, contact_id, role, joined_at) VALUES ($1, $2, 'owner', $3)`, [full.id, c1.id, now]);
    await h.q(
      `INSERT INTO account_health (account_id, score, band, previous_score, previous_band, band_changed_at, components, computed_at)
       VALUES ($1, 61.5, 'yellow', 80, 'green', '2026-11-10T12:00:00Z', '{}', $2)`,
      [full.id, now],
    );
    await h.load(journey({ key: 'facts-j', steps: [send('hello', 'welcome')] }));
    const rows = await h.q(
      `INSERT INTO enrollments (journey_key, version_id, subject_type, subject_id, account_id, contact_id, status, step_id, step_started_at, entered_at, due_at, holdout, created_at, updated_at)
       SELECT j.key, j.current_version_id, 'contact', x.cid, x.aid, x.cid, 'active', 'hello', $1, $1, $1, false, $1, $1
         FROM journeys j, (VALUES ($2::bigint, $3::bigint, 'full'), ($4::bigint, $5::bigint, 'bare')) x(cid, aid, name) WHERE j.key = 'facts-j' RETURNING id, account_id`,
      [now, c1.id, full.id, c2.id, bare.id],
    );
    for (const r of rows) ids[String(r.account_id) === String(full.id) ? 'full' : 'bare'] = String(r.id);
  });
  afterAll(() => h.t.close());

  /** The previous form: the whole rows as JSON, for the keys a facts row holds. */
  async function wholeRows(enrollmentId: string) {
    const [r] = await h.q(
      `SELECT to_jsonb(a) AS account, to_jsonb(c) AS contact FROM enrollments en JOIN accounts a ON a.id = en.account_id LEFT JOIN contacts c ON c.id = en.contact_id WHERE en.id = $1`,
      [enrollmentId],
    );
    return r;
  }

  it('holds every condition field and the traits exactly as the whole rows did', async () => {
    const facts = await repo.facts('contact', [ids.full, ids.bare], [], [], '2026-11-20', ALL);
    for (const name of ['full', 'bare']) {
      const row = facts.get(ids[name])!;
      const whole = await wholeRows(ids[name]);
      const accountKeys = [...Object.keys(ACCOUNT_FIELDS), 'traits'];
      expect(Object.keys(row.account!).sort()).toEqual([...accountKeys].sort());
      for (const k of accountKeys) expect([k, row.account![k]]).toEqual([k, whole.account[k]]);
      for (const k of Object.keys(row.contact!)) expect([k, row.contact![k]]).toEqual([k, whole.contact[k]]);
      expect(Object.keys(row.contact!).sort()).toEqual(['consent_marketing', 'email', 'external_id', 'locale', 'name', 'role', 'timezone', 'traits']);
    }
    const full = facts.get(ids.full)!;
    // The types the evaluator compares: a number, a YYYY-MM-DD string, a boolean, parsed traits.
    expect(full.account).toMatchObject({ mrr: 1234.5, seats: 42, renewal_date: '2026-12-01', contract_start: '2025-01-31', high_touch: true, traits: { tier: 'gold', n: 3, nested: { a: [1, 2] } } });
    expect(full.contact).toMatchObject({ consent_marketing: true, traits: { seat: 'pro' } });
    expect(full.memberRole).toBe('owner');
    expect(full.health).toEqual({ score: 61.5, band: 'yellow', previous_score: 80, previous_band: 'green', band_changed_day: '2026-11-10' });
    expect(facts.get(ids.bare)!).toMatchObject({ memberRole: null, health: null, account: { mrr: null, renewal_date: null, traits: {} } });
  });

  it('leaves out traits and health when nothing of the batch reads them, with the same facts for the rest', async () => {
    const some = await repo.facts('contact', [ids.full], [], [], '2026-11-20', NONE);
    const all = await repo.facts('contact', [ids.full], [], [], '2026-11-20', ALL);
    const [a, b] = [some.get(ids.full)!, all.get(ids.full)!];
    expect(a.health).toBeNull();
    expect(a.account).not.toHaveProperty('traits');
    expect(a.contact).not.toHaveProperty('traits');
    const { traits: _at, ...accountRest } = b.account!;
    const { traits: _ct, ...contactRest } = b.contact!;
    expect(a.account).toEqual(accountRest);
    expect(a.contact).toEqual(contactRest);
    const req = { subject: 'contact' as const, signals: [], contact: true, health: false, entry: false };
    const when = new Date('2026-11-20T00:00:00Z');
    expect(toFacts(a, req, when, when)).toEqual({ ...toFacts(b, req, when, when), health: null, account: { ...toFacts(b, req, when, when).account, traits: {} }, contact: { ...toFacts(b, req, when, when).contact, traits: {} } });
  });

  it('asks for traits and health exactly when a condition or a hand-off reads them', () => {
    const plain = journey({ key: 'p', steps: [send('s', 'welcome')] });
    expect(batchRequirements([plain], 'contact').read).toEqual(NONE);
    const branch = (c: string) => journey({ key: 'b', steps: [{ id: 'b', type: 'branch', condition: cond(c), then: 'b', else: 'b' }] });
    expect(batchRequirements([plain, branch('account.trait.tier = gold')], 'contact').read).toEqual({ ...NONE, accountTraits: true });
    expect(batchRequirements([branch('contact.trait.seat = pro')], 'contact').read).toEqual({ ...NONE, contactTraits: true });
    expect(batchRequirements([branch('health.score < 50')], 'contact').read).toEqual({ ...NONE, health: true });
    expect(batchRequirements([journey({ key: 'g', goal: { condition: cond('account.trait.tier = gold'), events: [] }, steps: [send('s', 'welcome')] })], 'contact').read.accountTraits).toBe(true);
    expect(batchRequirements([journey({ key: 'h', steps: [{ id: 'n', type: 'notify_csm', reason: 'call', next: undefined }] })], 'account').read).toEqual({ ...NONE, health: true });
  });
});
