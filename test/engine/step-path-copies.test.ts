import fc from 'fast-check';
import * as path from 'node:path';
import { copyWith } from '../../src/common/copy-with';
import type { FactsRow } from '../../src/engine/enrollments.repository';
import { toFacts } from '../../src/engine/facts-builder';
import { contextNeeds, PathTree, pathTree, projectContext } from '../../src/templates/context-subset';
import { buildContext } from '../../src/templates/render-context.builder';
import { RenderContext, sampleContext } from '../../src/templates/render-context';
import { ROOT } from '../support/app';
import { engineFor, KEY_FEATURES, NOW, SENDER } from '../templates/fixtures';

/**
 * The step path builds its objects by assignment and walks arrays instead of the spreads and
 * Map iterations it had (several times faster in V8). What it stores must not change by a byte:
 * each function is compared here with the previous form, written out as it was, on the same
 * inputs — values and key order (JSON.stringify, as the outbox stores the context).
 */
describe('the step path`s copies equal the previous spreads, key order included', () => {
  const json = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
  const key = fc.oneof(fc.constantFrom('a', 'b', 'mrr', 'traits', 'role', 'journey', 'x1', '0', '10'), fc.string({ minLength: 1, maxLength: 6 }));
  const record = fc.dictionary(key.filter((k) => k !== '__proto__'), json, { maxKeys: 8 });

  it('copyWith(o, extra) is { ...o, ...extra }', () => {
    fc.assert(
      fc.property(record, record, (o, extra) => {
        const a = copyWith(o, extra);
        const b = { ...o, ...extra };
        expect(Object.keys(a)).toEqual(Object.keys(b));
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
      { numRuns: 1000 },
    );
  });

  it('toFacts gives the facts the spreads gave', () => {
    const previous = (row: FactsRow) => ({
      account: row.account ? { ...row.account, mrr: row.account.mrr === null || row.account.mrr === undefined ? null : Number(row.account.mrr), traits: row.account.traits ?? {} } : null,
      contact: row.contact ? { ...row.contact, role: row.memberRole ?? row.contact.role ?? null, consent: row.contact.consent_marketing ?? null, traits: row.contact.traits ?? {} } : null,
    });
    const req = { subject: 'contact' as const, signals: [], contact: true, health: false, entry: false };
    const account = { external_id: 'a', name: 'A', plan: 'growth', mrr: 12.5, seats: 3, phase: 'adoption', contract_start: '2025-01-01', high_touch: false, timezone: null, locale: 'ja' };
    const contact = { external_id: 'c', email: 'c@example.com', name: null, role: 'admin', locale: null, timezone: 'Asia/Tokyo', consent_marketing: true };
    const rows: FactsRow[] = [
      { id: '1', account, contact, memberRole: 'owner', health: null, signals: [], events: [] },
      { id: '2', account: { ...account, mrr: null, traits: { tier: 'gold' } }, contact: { ...contact, traits: { seat: 1 }, consent_marketing: null }, memberRole: null, health: null, signals: [], events: [] },
      { id: '3', account: { ...account, mrr: '7' }, contact: null, memberRole: null, health: null, signals: [], events: [] },
      { id: '4', account: null, contact: { ...contact, role: null }, memberRole: null, health: null, signals: [], events: [] },
    ];
    for (const row of rows) {
      const f = toFacts(row, req, NOW, NOW);
      const p = previous(row);
      expect(JSON.stringify({ account: f.account, contact: f.contact })).toBe(JSON.stringify(p));
    }
  });

  it('buildContext makes the context the literal with a conditional spread made', () => {
    const previous = (contact: any, account: any, c: RenderContext): RenderContext => {
      const traits = contact.traits ?? {};
      const firstName = typeof traits.firstName === 'string' ? traits.firstName : typeof traits.first_name === 'string' ? traits.first_name : undefined;
      const email = contact.email ?? '';
      return {
        ...c,
        contact: {
          id: String(contact.id),
          externalId: contact.external_id,
          name: contact.name || email.split('@')[0] || contact.external_id,
          ...(firstName ? { firstName } : {}),
          email,
          role: contact.role,
          locale: contact.locale || account.locale || 'en',
          timezone: contact.timezone || account.timezone || 'UTC',
          traits,
        },
      };
    };
    const account = { id: '9', external_id: 'acc', name: 'Acme', plan: null, mrr: '10.5', phase: 'adoption', contract_start: null, renewal_date: '2027-01-01', csm_owner: null, high_touch: false, seats: null, timezone: null, locale: 'ja', traits: {} };
    const signals = sampleContext({ locale: 'en', sender: SENDER, keyFeatures: KEY_FEATURES, now: NOW }).signals;
    const config = { sender: SENDER, defaults: { locale: 'en', timezone: 'UTC' } } as any;
    for (const traits of [{}, { firstName: 'Ken' }, { first_name: 'Ann' }, { firstName: 3, first_name: 'Bo' }, { firstName: '' }]) {
      for (const [name, email] of [['Ken Sato', 'ken@example.com'], [null, 'ann@example.com'], ['', null]]) {
        const contact = { id: '5', external_id: 'ext', email, name, role: null, locale: null, timezone: 'Asia/Tokyo', traits };
        for (const csm of [null, { name: 'Emily', email: 'e@example.com' }]) {
          const built = buildContext(contact, account, signals, csm, config, NOW);
          expect(JSON.stringify(built)).toBe(JSON.stringify(previous(contact, account, built)));
        }
      }
    }
  });

  it('projectContext keeps the keys in the order the Map-walking projection kept them', async () => {
    // The previous walk: the paths' Map tree, iterated entry by entry.
    const previous = (context: Record<string, unknown>, paths: string[]): Record<string, unknown> => {
      const pick = (value: Record<string, unknown>, t: PathTree): Record<string, unknown> => {
        const out: Record<string, unknown> = {};
        for (const [k, sub] of t) {
          if (!Object.hasOwn(value, k)) continue;
          const v = value[k];
          out[k] = sub === true || v === null || typeof v !== 'object' || Array.isArray(v) ? v : pick(v as Record<string, unknown>, sub);
        }
        return out;
      };
      return pick(context, pathTree(paths));
    };
    const engine = engineFor(path.join(ROOT, 'templates'), 60_000);
    const whole = { ...sampleContext({ locale: 'ja', sender: SENDER, keyFeatures: KEY_FEATURES, now: NOW, csm: { name: 'E', email: 'e@example.com', title: 'CSM' } }), journey: { key: 'j', name: 'J' } };
    const needsList = [];
    for (const name of await engine.names()) needsList.push(contextNeeds(await engine.get(name)));
    needsList.push({ all: false, paths: ['csm.name', 'contact.firstName', 'contact.traits.nope', 'signals.usedFeatures.length', 'now', 'contact', 'contact.id'] });
    for (const needs of needsList) {
      expect(JSON.stringify(projectContext(whole, needs))).toBe(JSON.stringify(previous(whole, needs.paths)));
    }
  });
});
