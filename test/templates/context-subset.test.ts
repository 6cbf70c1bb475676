import * as path from 'node:path';
import { signalName } from '../../src/signals/signal';
import { ALL_CONTEXT, contextNeeds, projectContext, signalFields } from '../../src/templates/context-subset';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { RenderContext, sampleContext, SIGNAL_FIELDS } from '../../src/templates/render-context';
import { signalPlan } from '../../src/templates/render-signals';
import { ROOT } from '../support/app';
import { BASE_FILES, engineFor, KEY_FEATURES, NOW, SENDER, template, templateDir } from './fixtures';

/** Varied recipients: with and without a CSM, first name, traits, unusual figures. */
function contexts(locale: string): RenderContext[] {
  const csm = { name: 'Emily Smith', email: 'csm@touchline.example', title: 'CSM' };
  const out: RenderContext[] = [];
  for (const [i, withCsm] of [false, true].entries()) {
    const c = sampleContext({ locale, sender: SENDER, keyFeatures: KEY_FEATURES, now: NOW, csm: withCsm ? csm : null });
    c.contact = { ...c.contact, name: i ? '<b>Ann</b> & co' : c.contact.name, traits: { plan_seen: i } };
    c.account.traits = { tier: 'gold' };
    c.signals = { ...c.signals, daysSinceLastLogin: i ? null : 40, activeUsers30d: i * 7, unusedFeatures: i ? [] : c.signals.unusedFeatures, seats: i ? null : 25 };
    c.journey = { key: 'j', name: 'Journey' };
    out.push(c);
  }
  return out;
}

describe('render contexts holding what a template version reads', () => {
  const engine = engineFor(path.join(ROOT, 'templates'), 60_000);

  it('every shipped template, in each locale, renders from its subset exactly as from the whole context', async () => {
    const names = await engine.names();
    expect(names.length).toBeGreaterThanOrEqual(9);
    for (const name of names) {
      const compiled = await engine.get(name);
      const needs = contextNeeds(compiled);
      expect(needs.all).toBe(false);
      for (const locale of compiled.locales.keys()) {
        for (const whole of contexts(locale)) {
          const subset = projectContext(whole, needs) as RenderContext;
          expect(JSON.stringify(subset).length).toBeLessThan(JSON.stringify(whole).length);
          const a = engine.renderCompiled(compiled, locale, subset, new PreviewLinkBuilder());
          const b = engine.renderCompiled(compiled, locale, whole, new PreviewLinkBuilder());
          expect(a).toEqual(b);
        }
      }
    }
  });

  it('records what layouts and partials read, not partial arguments; a template reading `this` needs the whole context', async () => {
    const miss = contextNeeds(await engine.get('adoption-we-miss-you'));
    expect(miss.paths).toEqual(expect.arrayContaining(['signals.activeUsers30d', 'signals.daysSinceLastLogin', 'sender.address', 'sender.contact', 'csm', 'contact.name', 'account.name']));
    expect(miss.paths.filter((p) => p.startsWith('signals.'))).toEqual(['signals.activeUsers30d', 'signals.daysSinceLastLogin']);
    expect(miss.paths).not.toContain('url'); // the button partial's argument
    expect(signalFields(miss, SIGNAL_FIELDS)).toEqual(new Set(['activeUsers30d', 'daysSinceLastLogin']));

    const t = templateDir({
      ...BASE_FILES,
      'whole/ja.mjml': template('subject: "{{contact.name}}"\ncategory: operational', '<mj-section><mj-column>\n{{#with this}}\n<mj-text>{{account.name}}</mj-text>\n{{/with}}\n</mj-column></mj-section>\n'),
      'root/ja.mjml': template('subject: "{{@root.contact.name}}"\ncategory: operational', '<mj-section><mj-column>\n{{#each signals.usedFeatures}}\n<mj-text>{{this}} {{@root.account.plan}}</mj-text>\n{{/each}}\n</mj-column></mj-section>\n'),
    });
    try {
      const local = engineFor(t.dir);
      expect(contextNeeds(await local.get('whole'))).toEqual(ALL_CONTEXT);
      const root = contextNeeds(await local.get('root'));
      expect(root.all).toBe(false);
      expect(root.paths).toEqual(expect.arrayContaining(['contact.name', 'account.plan', 'signals.usedFeatures']));
      const whole = contexts('ja')[1];
      expect(projectContext(whole, root).signals).toEqual({ usedFeatures: whole.signals.usedFeatures });
    } finally {
      t.remove();
    }
  });

  it('keeps missing values missing and nulls null on the way', () => {
    const whole = contexts('en')[0];
    const subset = projectContext(whole, { all: false, paths: ['csm.name', 'contact.firstName', 'contact.traits.nope', 'signals.usedFeatures.length'] }) as any;
    expect(subset).toEqual({ csm: null, contact: { firstName: whole.contact.firstName, traits: {} }, signals: { usedFeatures: whole.signals.usedFeatures } });
    expect(projectContext(whole, ALL_CONTEXT)).toBe(whole);
  });

  it('computes only the signals behind the fields read', () => {
    const o = { keyFeatures: ['a', 'b'], loginEvent: 'login' };
    const names = (fields: string[]) => {
      const plan = signalPlan(new Set(fields) as any, o);
      return { account: plan.account.map(signalName), contact: plan.contact.map(signalName) };
    };
    expect(names(['activeUsers30d', 'daysSinceLastLogin'])).toEqual({ account: ['active_contacts(30d)'], contact: ['days_since_last(login)'] });
    expect(names(['seatUtilization', 'activeUsers30d', 'seats'])).toEqual({ account: ['active_contacts(30d)'], contact: [] });
    expect(names(['usedFeatures', 'unusedFeatures'])).toEqual({ account: ['days_since_last(a)', 'days_since_last(b)'], contact: [] });
    expect(names([...SIGNAL_FIELDS]).account).toHaveLength(10);
    // Values are placed by field, whatever else is computed alongside.
    const plan = signalPlan(new Set(['keyFeatureUsage', 'usedFeatures', 'seatUtilization', 'logins30d']) as any, o);
    const av = plan.account.map((s) => (s.kind === 'event_count' ? (s.event === 'a' ? 5 : 0) : s.kind === 'days_since_last' ? (s.event === 'a' ? 2 : null) : 10));
    expect(plan.values({ seats: 40 } as any, av, [3])).toEqual({
      logins30d: 3,
      seatUtilization: 25,
      usedFeatures: ['a'],
      keyFeatureUsage: [
        { key: 'a', count30d: 5, daysSinceLast: 2 },
        { key: 'b', count30d: 0, daysSinceLast: null },
      ],
    });
  });
});
