import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadJourneyFiles } from '../../src/journeys/journey-files';
import { formatProblem } from '../../src/journeys/yaml-source';

/**
 * Each kind of invalid journey file, with the exact `file:line:col: message (at path)`
 * the validator must print. Positions were checked by hand against the fixture files.
 */
const ROOT = path.join(__dirname, '../..');
const DIR = path.join(__dirname, 'fixtures');
const F = 'test/journeys/fixtures/invalid';

function problems(file: string): string[] {
  const r = loadJourneyFiles(DIR, {
    paths: [path.join(DIR, 'invalid', file)],
    templates: new Set(['adoption-we-miss-you', 'adoption-feature-spotlight']),
    events: new Set(['login', 'report_created']),
    relativeTo: ROOT,
  });
  expect(r.journeys).toEqual([]); // an invalid journey never runs
  return r.problems.map(formatProblem);
}

const cases: [string, string[]][] = [
  ['unknown-field.yaml', [`${F}/unknown-field.yaml:4:1: unknown field "priorty" (did you mean "priority"?) (at priorty)`]],
  ['unknown-template.yaml', [`${F}/unknown-template.yaml:9:11: unknown template "adoption-we-mis-you" (did you mean "adoption-we-miss-you"?) (at steps[0].send)`]],
  [
    'unknown-event.yaml',
    [
      `${F}/unknown-event.yaml:5:14: unknown event "logni" (did you mean "login"?) (at trigger.condition)`,
      `${F}/unknown-event.yaml:8:10: unknown event "report_creatd" (did you mean "report_created"?) (at goal.event)`,
    ],
  ],
  ['duplicate-step.yaml', [`${F}/duplicate-step.yaml:10:9: duplicate step id "hello" (also steps[0]) (at steps[1].id)`]],
  ['unreachable-step.yaml', [`${F}/unreachable-step.yaml:12:9: step "orphan" can never be reached (at steps[2].id)`]],
  ['unknown-step-ref.yaml', [`${F}/unknown-step-ref.yaml:10:11: unknown step "finsh" (did you mean "finish"?) (at steps[0].next)`]],
  ['wait-until-no-timeout.yaml', [`${F}/wait-until-no-timeout.yaml:12:7: a wait_until needs a timeout (e.g. timeout: 7d), or it could wait forever (at steps[1].wait_until)`]],
  ['split-sum.yaml', [`${F}/split-sum.yaml:10:7: split percentages add up to 110, not 100 (at steps[0].split)`]],
  ['goal-never.yaml', [`${F}/goal-never.yaml:6:7: this goal can never be true: no value of count(login, 7d) satisfies all of its comparisons (at goal)`]],
  ['no-consent.yaml', [`${F}/no-consent.yaml:9:11: sends marketing email to contacts without consent: add "contact.consent" to the audience (or category: operational) (at steps[0].send)`]],
  ['syntax.yaml', [`${F}/syntax.yaml:7:34: expected a field or signal, got "and" (at audience[1])`]],
  ['contact-in-account-audience.yaml', [`${F}/contact-in-account-audience.yaml:8:11: contact.role reads a contact, but this audience is evaluated per account (use subject: contact, or recipients.where) (at audience)`]],
  ['unknown-segment.yaml', [`${F}/unknown-segment.yaml:6:14: unknown segment "tech-touh" (did you mean "tech-touch"?) (at audience[0].segment)`]],
  ['phase-value.yaml', [`${F}/phase-value.yaml:5:11: account.phase is never "adopton" (did you mean "adoption"?); it is one of onboarding, adoption, established, renewal, churned (at audience)`]],
  [
    'missing-trigger.yaml',
    [
      `${F}/missing-trigger.yaml:1:1: missing "trigger" (at (root))`,
      `${F}/missing-trigger.yaml:7:5: a step needs one of send, wait, wait_until, branch, split, notify_csm, update, exit (did you mean "send"?) (at steps[0])`,
    ],
  ],
  ['since-entry-in-trigger.yaml', [`${F}/since-entry-in-trigger.yaml:5:14: "since entry" only makes sense in a goal or a step (the trigger is checked before entry) (at trigger.condition)`]],
  ['yaml-error.yaml', [`${F}/yaml-error.yaml:5:1: YAML: Flow map in block collection must be sufficiently indented and end with a } (at (root))`]],
];

describe('journey validation reports each kind of invalid file at file:line:col', () => {
  it.each(cases)('%s', (file, expected) => {
    expect(problems(file)).toEqual(expected);
  });

  it('covers every fixture', () => {
    expect(fs.readdirSync(path.join(DIR, 'invalid')).sort()).toEqual(cases.map(([f]) => f).sort());
  });

  it('reports all problems of all files at once and keeps the valid journeys', () => {
    const r = loadJourneyFiles(DIR, { paths: [path.join(DIR, 'invalid'), path.join(ROOT, 'journeys/adoption/no-login-14d.yaml')], templates: new Set(['adoption-we-miss-you', 'adoption-feature-spotlight']), events: new Set(['login', 'report_created']), relativeTo: ROOT });
    expect(r.journeys.map((j) => j.key)).toEqual(['adoption-no-login']);
    expect(new Set(r.problems.map((p) => p.file)).size).toBe(17);
  });
});
