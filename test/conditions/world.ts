import fc from 'fast-check';
import { Facts } from '../../src/conditions/facts';
import { Signal, signalName } from '../../src/signals/signal';

/**
 * A small random world (accounts, contacts, memberships, rollups, health, messages,
 * engagement) and an independent JavaScript reference of every signal over it, so the
 * property test checks the SQL against semantics written twice.
 */
export const TODAY = '2026-11-20';
export const EVENTS = ['login', 'report_created', 'export'];
export const PHASE_VALUES = ['onboarding', 'adoption', 'established'];
export const PLANS = ['starter', 'growth'];
export const ROLES = ['admin', 'member'];
export const TRAIT_KEYS = ['industry', 'score', 'beta'];
export const TRAIT_STRINGS = ['saas', 'retail'];
export const JOURNEYS = ['j1', 'j2'];
export const TEMPLATES = ['t1', 't2'];

const day = (offset: number) => new Date(Date.parse(TODAY + 'T00:00:00Z') + offset * 86_400_000).toISOString().slice(0, 10);
const diff = (a: string, b: string) => Math.round((Date.parse(b) - Date.parse(a)) / 86_400_000);

export interface WAccount {
  id: number;
  phase: string;
  plan: string | null;
  mrr: number | null;
  seats: number | null;
  high_touch: boolean;
  contract_start: string | null;
  renewal_date: string | null;
  traits: Record<string, unknown>;
}
export interface WContact {
  id: number;
  account_id: number | null;
  role: string | null;
  locale: string | null;
  consent: boolean | null;
  traits: Record<string, unknown>;
}
export interface World {
  accounts: WAccount[];
  contacts: WContact[];
  memberships: { account_id: number; contact_id: number; role: string | null }[];
  rollups: { account_id: number; contact_id: number; event: string; day: string; count: number }[];
  health: { account_id: number; score: number; band: string; previous_band: string | null; changed: string | null }[];
  messages: { id: number; account_id: number; contact_id: number; journey: string | null; template: string; status: string; sent_at: string | null }[];
  engagement: { message_id: number; account_id: number; contact_id: number; kind: string; machine: boolean; at: string }[];
}

const traitValue = fc.oneof(fc.constantFrom(...TRAIT_STRINGS), fc.integer({ min: 0, max: 5 }), fc.boolean(), fc.constant(null), fc.constant({ nested: 1 }));
const traits = fc.dictionary(fc.constantFrom(...TRAIT_KEYS), traitValue, { maxKeys: 3 });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 4 });
const dayOffset = (min: number, max: number) => fc.integer({ min, max }).map(day);

export const worldArb: fc.Arbitrary<World> = fc
  .record({
    accounts: fc.array(
      fc.record({
        phase: fc.constantFrom(...PHASE_VALUES),
        plan: maybe(fc.constantFrom(...PLANS)),
        mrr: maybe(fc.constantFrom(0, 10.5, 100, 250.25)),
        seats: maybe(fc.integer({ min: 0, max: 20 })),
        high_touch: fc.boolean(),
        contract_start: maybe(dayOffset(-60, 5)),
        renewal_date: maybe(dayOffset(-5, 120)),
        traits,
      }),
      { minLength: 1, maxLength: 4 },
    ),
    contacts: fc.array(
      fc.record({ acc: fc.integer({ min: 0, max: 3 }), noAccount: fc.boolean(), role: maybe(fc.constantFrom(...ROLES)), locale: maybe(fc.constantFrom('ja', 'en')), consent: maybe(fc.boolean()), traits, memberRole: maybe(fc.constantFrom(...ROLES)), member: fc.boolean() }),
      { minLength: 1, maxLength: 6 },
    ),
    rollups: fc.array(fc.record({ c: fc.integer({ min: 0, max: 6 }), event: fc.constantFrom(...EVENTS), day: fc.integer({ min: -40, max: 2 }), count: fc.integer({ min: 1, max: 3 }) }), { maxLength: 30 }),
    health: fc.array(fc.record({ score: fc.constantFrom(20, 55.5, 80), band: fc.constantFrom('green', 'yellow', 'red'), previous_band: maybe(fc.constantFrom('green', 'yellow', 'red')), changed: maybe(fc.integer({ min: -20, max: 0 })) }), { maxLength: 4 }),
    messages: fc.array(fc.record({ c: fc.integer({ min: 0, max: 5 }), journey: maybe(fc.constantFrom(...JOURNEYS)), template: fc.constantFrom(...TEMPLATES), sent: fc.boolean(), at: fc.integer({ min: -20, max: 1 }) }), { maxLength: 10 }),
    engagement: fc.array(fc.record({ m: fc.integer({ min: 0, max: 9 }), kind: fc.constantFrom('open', 'click', 'delivered'), machine: fc.boolean(), at: fc.integer({ min: -20, max: 1 }) }), { maxLength: 16 }),
  })
  .map((r) => {
    const accounts: WAccount[] = r.accounts.map((a, i) => ({ id: i + 1, ...a }));
    const contacts: WContact[] = r.contacts.map((c, i) => ({
      id: i + 1,
      account_id: c.noAccount && i > 0 ? null : accounts[c.acc % accounts.length].id,
      role: c.role,
      locale: c.locale,
      consent: c.consent,
      traits: c.traits,
    }));
    const memberships = r.contacts
      .map((c, i) => ({ c, contact: contacts[i] }))
      .filter(({ c, contact }) => c.member && contact.account_id !== null)
      .map(({ c, contact }) => ({ account_id: contact.account_id!, contact_id: contact.id, role: c.memberRole }));
    const seen = new Set<string>();
    const rollups: World['rollups'] = [];
    for (const x of r.rollups) {
      const contact = x.c < contacts.length ? contacts[x.c] : undefined; // beyond = an anonymous (contact 0) row
      const account_id = contact?.account_id ?? (contact ? 0 : accounts[x.c % accounts.length].id);
      const row = { account_id, contact_id: contact?.id ?? 0, event: x.event, day: day(x.day), count: x.count };
      const k = `${row.account_id}/${row.event}/${row.day}/${row.contact_id}`;
      if (!seen.has(k)) rollups.push(row), seen.add(k);
    }
    const health = r.health.slice(0, accounts.length).map((h, i) => ({ account_id: accounts[i].id, score: h.score, band: h.band, previous_band: h.previous_band, changed: h.changed === null ? null : `${day(h.changed)}T05:00:00Z` }));
    const withAccount = contacts.filter((c) => c.account_id !== null);
    const messages = withAccount.length
      ? r.messages.map((m, i) => {
          const c = withAccount[m.c % withAccount.length];
          return { id: i + 1, account_id: c.account_id!, contact_id: c.id, journey: m.journey, template: m.template, status: m.sent ? 'sent' : 'queued', sent_at: m.sent ? `${day(m.at)}T23:30:00Z` : null };
        })
      : [];
    const engagement = messages.length
      ? r.engagement.map((e) => {
          const m = messages[e.m % messages.length];
          return { message_id: m.id, account_id: m.account_id, contact_id: m.contact_id, kind: e.kind, machine: e.machine, at: `${day(e.at)}T00:10:00Z` };
        })
      : [];
    return { accounts, contacts, memberships, rollups, health, messages, engagement };
  });

/** The reference: each signal computed from the world in plain JavaScript. */
export function signalValue(w: World, s: Signal, subject: 'account' | 'contact', accountId: number | null, contactId: number | null): number | null {
  const byContact = subject === 'contact' && !('of' in s && s.of === 'account');
  const owns = (r: { account_id: number; contact_id: number }) => (byContact ? r.contact_id === contactId : r.account_id === accountId);
  const inWindow = (d: string, days: number, offset = 0) => d > day(-(days + offset)) && d <= day(-offset);
  const account = w.accounts.find((a) => a.id === accountId);
  switch (s.kind) {
    case 'event_count':
      return w.rollups.filter((r) => owns(r) && r.event === s.event && inWindow(r.day, s.days, s.offsetDays)).reduce((n, r) => n + r.count, 0);
    case 'days_since_last': {
      const days = w.rollups.filter((r) => owns(r) && r.event === s.event && r.day <= TODAY).map((r) => r.day).sort();
      return days.length ? diff(days[days.length - 1], TODAY) : null;
    }
    case 'distinct_events':
      return new Set(w.rollups.filter((r) => owns(r) && inWindow(r.day, s.days, s.offsetDays) && (!s.events?.length || s.events.includes(r.event))).map((r) => r.event)).size;
    case 'active_contacts':
      return new Set(w.rollups.filter((r) => r.account_id === accountId && r.contact_id !== 0 && inWindow(r.day, s.days, s.offsetDays) && (!s.event || r.event === s.event)).map((r) => r.contact_id)).size;
    case 'days_since_contract_start':
      return account?.contract_start ? diff(account.contract_start, TODAY) : null;
    case 'days_until_renewal':
      return account?.renewal_date ? diff(TODAY, account.renewal_date) : null;
    case 'engagement': {
      const matches = (m: World['messages'][number]) => (s.journey === undefined || m.journey === s.journey) && (s.template === undefined || m.template === s.template);
      if (s.action === 'received') return w.messages.filter((m) => m.status === 'sent' && owns(m) && inWindow(m.sent_at!.slice(0, 10), s.days) && matches(m)).length;
      const kinds = s.action === 'opened' ? ['open', 'click'] : ['click'];
      const ids = w.engagement
        .filter((e) => owns(e) && kinds.includes(e.kind) && (s.includeMachine || !e.machine) && inWindow(e.at.slice(0, 10), s.days) && matches(w.messages.find((m) => m.id === e.message_id)!))
        .map((e) => e.message_id);
      return new Set(ids).size;
    }
  }
}

export function worldFacts(w: World, subject: 'account' | 'contact', id: number, signals: Signal[], enteredDay?: string): Facts {
  const contact = subject === 'contact' ? w.contacts.find((c) => c.id === id)! : undefined;
  const accountId = subject === 'account' ? id : (contact!.account_id ?? null);
  const a = w.accounts.find((x) => x.id === accountId);
  const h = w.health.find((x) => x.account_id === accountId);
  const membership = contact && w.memberships.find((m) => m.contact_id === contact.id && m.account_id === contact.account_id);
  const sig: Record<string, number | null> = {};
  for (const s of signals) sig[signalName(s)] = signalValue(w, s, subject, accountId, contact?.id ?? null);
  return {
    today: TODAY,
    account: a ? { phase: a.phase, plan: a.plan, mrr: a.mrr, seats: a.seats, high_touch: a.high_touch, contract_start: a.contract_start, renewal_date: a.renewal_date, traits: a.traits } : null,
    ...(contact
      ? { contact: { role: membership?.role ?? contact.role, locale: contact.locale, consent: contact.consent, traits: contact.traits } }
      : {}),
    health: h ? { score: h.score, band: h.band, previous_score: null, previous_band: h.previous_band, band_changed_day: h.changed ? h.changed.slice(0, 10) : null } : null,
    signals: sig,
    ...(enteredDay ? { enteredDay } : {}),
  };
}

/** Writes the world into an empty database (ids as given). */
export async function writeWorld(q: (sql: string, p?: unknown[]) => Promise<unknown>, w: World): Promise<void> {
  await q('TRUNCATE engagement_events, messages, account_health, event_rollups, account_contacts, contacts, accounts RESTART IDENTITY CASCADE');
  const now = '2026-11-20T12:00:00Z';
  await q(
    `INSERT INTO accounts (id, external_id, phase, plan, mrr, seats, high_touch, contract_start, renewal_date, traits, created_at, updated_at)
     SELECT x.id, 'a' || x.id, x.phase, x.plan, x.mrr, x.seats, x.high_touch, x.contract_start, x.renewal_date, x.traits, $2, $2
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, phase text, plan text, mrr numeric, seats int, high_touch boolean, contract_start date, renewal_date date, traits jsonb)`,
    [JSON.stringify(w.accounts), now],
  );
  await q(
    `INSERT INTO contacts (id, external_id, account_id, role, locale, consent_marketing, traits, created_at, updated_at)
     SELECT x.id, 'c' || x.id, x.account_id, x.role, x.locale, x.consent, x.traits, $2, $2
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, account_id bigint, role text, locale text, consent boolean, traits jsonb)`,
    [JSON.stringify(w.contacts), now],
  );
  await q(`INSERT INTO account_contacts (account_id, contact_id, role, joined_at) SELECT x.account_id, x.contact_id, x.role, $2 FROM jsonb_to_recordset($1::jsonb) AS x(account_id bigint, contact_id bigint, role text)`, [JSON.stringify(w.memberships), now]);
  await q(
    `INSERT INTO event_rollups (account_id, event, day, contact_id, count, first_at, last_at)
     SELECT x.account_id, x.event, x.day, x.contact_id, x.count, x.day::timestamptz, x.day::timestamptz FROM jsonb_to_recordset($1::jsonb) AS x(account_id bigint, event text, day date, contact_id bigint, count int)`,
    [JSON.stringify(w.rollups)],
  );
  await q(
    `INSERT INTO account_health (account_id, score, band, previous_band, band_changed_at, computed_at)
     SELECT x.account_id, x.score, x.band, x.previous_band, x.changed, $2 FROM jsonb_to_recordset($1::jsonb) AS x(account_id bigint, score numeric, band text, previous_band text, changed timestamptz)`,
    [JSON.stringify(w.health), now],
  );
  await q(
    `INSERT INTO messages (id, idempotency_key, account_id, contact_id, to_email, journey_key, template, locale, category, status, scheduled_at, created_at, updated_at, sent_at)
     SELECT x.id, 'k' || x.id, x.account_id, x.contact_id, 'x@example.com', x.journey, x.template, 'ja', 'marketing', x.status, $2, $2, $2, x.sent_at
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, account_id bigint, contact_id bigint, journey text, template text, status text, sent_at timestamptz)`,
    [JSON.stringify(w.messages), now],
  );
  await q(
    `INSERT INTO engagement_events (message_id, account_id, contact_id, kind, machine, occurred_at)
     SELECT x.message_id, x.account_id, x.contact_id, x.kind, x.machine, x.at FROM jsonb_to_recordset($1::jsonb) AS x(message_id bigint, account_id bigint, contact_id bigint, kind text, machine boolean, at timestamptz)`,
    [JSON.stringify(w.engagement)],
  );
}
