import * as path from 'node:path';
import { loadJourneyFiles } from '../../src/journeys/journey-files';
import { formatProblem } from '../../src/journeys/yaml-source';
import { FEATURES } from '../../src/demo/demo-data';

/** The template names the sample journeys use (written on the templates branch). */
export const SAMPLE_TEMPLATES = new Set([
  'onboarding-welcome', 'onboarding-first-action-reminder', 'adoption-we-miss-you', 'adoption-feature-spotlight',
  'established-new-user-welcome', 'renewal-value-recap', 'nps-survey', 'webinar-invitation', 'monthly-usage-report',
]);
export const DEMO_EVENTS = new Set(['login', ...FEATURES]);

describe('sample journeys', () => {
  it('all validate against the template names and the demo events', () => {
    const root = path.join(__dirname, '../../journeys');
    const r = loadJourneyFiles(root, { templates: SAMPLE_TEMPLATES, events: DEMO_EVENTS, relativeTo: path.join(__dirname, '../..') });
    expect(r.problems.map(formatProblem)).toEqual([]);
    expect(r.journeys.map((j) => j.key).sort()).toEqual([
      'adoption-key-feature', 'adoption-no-login', 'established-new-user', 'established-nps', 'established-usage-drop',
      'onboarding-stalled', 'onboarding-welcome', 'renewal-value-recap',
    ]);
    expect(r.segments.map((s) => s.name).sort()).toEqual(['tech-touch', 'unengaged-adoption']);
    for (const j of r.journeys) expect(j.goal).toBeDefined();
  });
});
