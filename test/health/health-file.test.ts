import { parseHealthFile } from '../../src/health/health-file';

const problems = (text: string) => {
  const r = parseHealthFile('health.yaml', text);
  if (r.ok) throw new Error('expected problems');
  return r.problems.map((p) => `${p.path}: ${p.message}`);
};

const VALID = `bands: { green: 70, yellow: 40 }
components:
  recency:
    measure: days_since_last
    events: [login]
    weight: 10
    points: [[0, 100], [30, 0]]
    missing: 0
`;

describe('health.yaml validation', () => {
  it('accepts a minimal model and fills defaults', () => {
    const r = parseHealthFile('health.yaml', VALID);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.model).toEqual({ bands: { green: 70, yellow: 40 }, profiles: {}, components: [{ name: 'recency', measure: { kind: 'days_since_last', events: ['login'] }, weight: 10, points: [[0, 100], [30, 0]], missing: 0 }] });
  });

  it('reports every problem with file:line:col and the field path, in file order', () => {
    const text = `bands:
  green: 40
  yellow: 60
components:
  recency:
    measure: days_since_last
    events: [login]
    weight: -3
    points: [[0, 100], [14, 30], [7, 0]]
    colour: blue
  breadth:
    measure: feature_breadth
    events: []
    days: 30
    weight: 10
    points: [[0, 0], [3, 120]]
  thing:
    measure: happiness
    weight: 1
profiles:
  onbaording:
    weights: { recency: 2 }
`;
    expect(problems(text)).toEqual([
      'health.yaml:3:11: bands.yellow: yellow must be below green (red is below yellow)',
      'health.yaml:8:13: components.recency.weight: a weight cannot be negative',
      'health.yaml:9:34: components.recency.points[2]: values must increase from pair to pair (7 after 14)',
      'health.yaml:10:5: components.recency.colour: unknown field "colour"',
      'health.yaml:13:13: components.breadth.events: expected at least one event',
      'health.yaml:16:26: components.breadth.points[1][1]: points are from 0 to 100',
      'health.yaml:18:14: components.thing.measure: expected a measure: one of days_since_last, frequency_change, feature_breadth, active_users, email_engagement, nps, open_handoffs',
      'health.yaml:21:3: profiles.onbaording: "onbaording" is not a lifecycle phase (did you mean "onboarding"?)',
    ]);
  });

  it('names a profile weight that matches no component, with a suggestion', () => {
    expect(problems(VALID + `profiles:\n  renewal:\n    weights: { recncy: 3 }\n`)).toEqual(['health.yaml:11:16: profiles.renewal.weights.recncy: no component named "recncy" (did you mean "recency"?)']);
  });

  it('refuses a model or profile where every account could end up with no counted component', () => {
    const skipOnly = VALID.replace('missing: 0', 'missing: skip');
    expect(problems(skipOnly)).toEqual([
      'health.yaml:3:3: components: needs at least one component with a weight above 0 whose missing is not skip, so that every account gets a score',
    ]);
    expect(problems(VALID + `profiles:\n  churned:\n    weights: { recency: 0 }\n`)).toEqual([
      'health.yaml:11:5: profiles.churned: needs at least one component with a weight above 0 whose missing is not skip, so that every account gets a score',
    ]);
  });

  it('reports missing parameters of a measure and YAML syntax errors with their line', () => {
    expect(problems(VALID.replace('measure: days_since_last\n    events: [login]', 'measure: frequency_change'))).toEqual([
      'health.yaml:3:3: components.recency.events: expected a list of event names',
      'health.yaml:3:3: components.recency.days: expected a number of days',
    ]);
    expect(problems('bands: { green: 70, yellow: 40\ncomponents:\n  a: 1\n')[0]).toMatch(/^health\.yaml:2:1: /);
    expect(problems('bands: { green: 70, yellow: 40 }\nbands: {}\ncomponents: {}\n')[0]).toMatch(/^health\.yaml:2:1: Map keys must be unique/);
  });
});
