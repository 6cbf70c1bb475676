import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseHealthFile } from '../../src/health/health-file';
import { bandFor, HealthModel, pointsFor, roundTo, scoreAccount } from '../../src/health/health-model';
import { trendOf } from '../../src/health/health-trend';

const ROOT = path.resolve(__dirname, '..', '..');

function shippedModel(): HealthModel {
  const r = parseHealthFile('health.yaml', fs.readFileSync(path.join(ROOT, 'health.yaml'), 'utf8'));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.model;
}

// Component order of the shipped health.yaml:
// usage_recency, usage_frequency, feature_breadth, active_users, email_engagement, nps, open_handoffs
const MIXED = [10, 0.6, 2, 0.2, 0.25, 9, 1];

describe('piecewise-linear points', () => {
  const pts = [[0, 100], [3, 100], [7, 75], [14, 35], [30, 0]] as const;

  it('interpolates between pairs and stays flat outside them', () => {
    expect(pointsFor(pts, -2)).toBe(100);
    expect(pointsFor(pts, 0)).toBe(100);
    expect(pointsFor(pts, 5)).toBe(87.5); // 100 + 2 × (75-100)/4
    expect(pointsFor(pts, 7)).toBe(75);
    expect(pointsFor(pts, 10)).toBeCloseTo(57.857143, 6); // 75 + 3 × (35-75)/7 = 75 - 120/7
    expect(pointsFor(pts, 22)).toBe(17.5); // 35 + 8 × (0-35)/16
    expect(pointsFor(pts, 30)).toBe(0);
    expect(pointsFor(pts, 400)).toBe(0);
  });

  it('bands are inclusive at their threshold', () => {
    expect(bandFor(70, { green: 70, yellow: 45 })).toBe('green');
    expect(bandFor(69.99, { green: 70, yellow: 45 })).toBe('yellow');
    expect(bandFor(45, { green: 70, yellow: 45 })).toBe('yellow');
    expect(bandFor(44.99, { green: 70, yellow: 45 })).toBe('red');
  });

  it('rounds like PostgreSQL round(float8::numeric, 2): 15 significant digits, half away from zero', () => {
    expect(roundTo(2.675, 2)).toBe(2.68); // Math.round(267.49999…) would give 2.67
    expect(roundTo(58.51488095238095, 2)).toBe(58.51);
    expect(roundTo(7.6875, 2)).toBe(7.69);
    expect(roundTo(0.333333333, 4)).toBe(0.3333);
    expect(roundTo(100, 2)).toBe(100);
  });
});

describe('score of an account (shipped health.yaml, hand-calculated)', () => {
  const model = shippedModel();

  it('an adoption account with every component measured', () => {
    // points: recency 75 + 3×(-40/7) = 57.857143; frequency 40 + 0.1×112.5 = 51.25; breadth 30 + 25 = 55;
    // active users 30 + 0.1×225 = 52.5; email 60 + 0.05×(40/0.3) = 66.666667; nps 80 + 1×10 = 90; hand-offs 40.
    // weights 25/15/20/15/10/10/5 (sum 100): 1446.4286 + 768.75 + 1100 + 787.5 + 666.6667 + 900 + 200 = 5869.3452 → 58.69
    const r = scoreAccount(model, 'adoption', MIXED);
    expect(r.score).toBe(58.69);
    expect(r.band).toBe('yellow');
    expect(r.profile).toBe('default');
    expect(r.components.usage_recency).toEqual({ value: 10, points: 57.86, weight: 25, contribution: 14.46 });
    expect(r.components.usage_frequency).toEqual({ value: 0.6, points: 51.25, weight: 15, contribution: 7.69 });
    expect(r.components.feature_breadth).toEqual({ value: 2, points: 55, weight: 20, contribution: 11 });
    expect(r.components.active_users).toEqual({ value: 0.2, points: 52.5, weight: 15, contribution: 7.88 });
    expect(r.components.email_engagement).toEqual({ value: 0.25, points: 66.67, weight: 10, contribution: 6.67 });
    expect(r.components.nps).toEqual({ value: 9, points: 90, weight: 10, contribution: 9 });
    expect(r.components.open_handoffs).toEqual({ value: 1, points: 40, weight: 5, contribution: 2 });
  });

  it('skipped components leave the score and the others are re-weighed', () => {
    // active users (no seats), email (nothing sent) and NPS (no answer) skip: weights 25+15+20+5 = 65,
    // (1446.4286 + 768.75 + 1100 + 200) / 65 = 54.0797 → 54.08
    const r = scoreAccount(model, 'adoption', [10, 0.6, 2, null, null, null, 1]);
    expect(r.score).toBe(54.08);
    expect(r.band).toBe('yellow');
    expect(r.components.nps).toEqual({ value: null, points: null, weight: 10, contribution: 0 });
    expect(r.components.usage_recency.contribution).toBe(22.25); // 1446.4286 / 65
  });

  it('missing with points: a never-used account is red', () => {
    // recency and frequency missing → 0; breadth 0 → 0; 0 of 10 seats active → 0; hand-offs 0 → 100.
    // weights 25+15+20+15+5 = 80: 500 / 80 = 6.25
    const r = scoreAccount(model, 'adoption', [null, null, 0, 0, null, null, 0]);
    expect(r.score).toBe(6.25);
    expect(r.band).toBe('red');
    expect(r.components.open_handoffs).toEqual({ value: 0, points: 100, weight: 5, contribution: 6.25 });
  });

  it('a phase profile changes weights and bands', () => {
    // onboarding: recency 35, breadth 10, nps 0: 2025 + 768.75 + 550 + 787.5 + 666.6667 + 0 + 200 = 4997.9167 / 90 = 55.53
    const r = scoreAccount(model, 'onboarding', MIXED);
    expect(r.profile).toBe('onboarding');
    expect(r.score).toBe(55.53);
    expect(r.band).toBe('yellow'); // onboarding bands: green 65, yellow 40
    expect(r.components.nps).toEqual({ value: 9, points: 90, weight: 0, contribution: 0 });
    expect(r.components.usage_recency.contribution).toBe(22.5); // 2025 / 90
    // renewal: nps 20, active users 20 → total 115: (5869.3452 + 900 + 262.5) / 115 = 61.1465 → 61.15
    expect(scoreAccount(model, 'renewal', MIXED).score).toBe(61.15);
  });

  it('a fully engaged account scores 100 and contributions add up to the score', () => {
    const r = scoreAccount(model, 'established', [1, 1.2, 4, 0.5, 0.6, 10, 0]);
    expect(r.score).toBe(100);
    expect(r.band).toBe('green');
    const mixed = scoreAccount(model, 'adoption', MIXED);
    const sum = Object.values(mixed.components).reduce((a, c) => a + c.contribution, 0);
    expect(Math.abs(sum - mixed.score)).toBeLessThanOrEqual(0.03); // each contribution rounds on its own
  });
});

describe('trend of a history', () => {
  it('reports the change over the window, its range and every band change', () => {
    const t = trendOf([
      { day: '2026-11-01', score: 72, band: 'green' },
      { day: '2026-11-02', score: 64.5, band: 'yellow' },
      { day: '2026-11-03', score: 40.25, band: 'red' },
      { day: '2026-11-04', score: 47, band: 'yellow' },
    ]);
    expect(t).toEqual({
      from: '2026-11-01',
      to: '2026-11-04',
      scoreChange: -25,
      min: 40.25,
      max: 72,
      direction: 'down',
      bandChanges: [
        { day: '2026-11-02', from: 'green', to: 'yellow' },
        { day: '2026-11-03', from: 'yellow', to: 'red' },
        { day: '2026-11-04', from: 'red', to: 'yellow' },
      ],
    });
  });

  it('is flat under a point and unknown without two days', () => {
    expect(trendOf([{ day: '2026-11-01', score: 50, band: 'yellow' }, { day: '2026-11-02', score: 50.6, band: 'yellow' }]).direction).toBe('flat');
    expect(trendOf([{ day: '2026-11-01', score: 50, band: 'yellow' }]).scoreChange).toBeNull();
    expect(trendOf([]).direction).toBe('unknown');
  });
});
