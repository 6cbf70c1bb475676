import { z } from 'zod';
import { PHASES, WEEKDAYS } from './journey';

/**
 * The shape of journey and segment files. The same schemas validate files and generate
 * the published JSON Schema (`touchline journeys schema`), so editors and the validator
 * never disagree. Meaning (conditions, references, reachability) is checked afterwards in
 * compile-journey.ts.
 */

export type ConditionInput = string | boolean | ConditionInput[] | { all: ConditionInput[] } | { any: ConditionInput[] } | { not: ConditionInput } | { segment: string };

export const CONDITION_HINT =
  'expected a condition: a text like "account.phase = adoption", a list (all must hold), or one of all:, any:, not:, segment:';

export const conditionSchema: z.ZodType<ConditionInput> = z
  .union([
    z.string().min(1),
    z.boolean(),
    z.array(z.lazy(() => conditionSchema)),
    z.strictObject({ all: z.array(z.lazy(() => conditionSchema)) }),
    z.strictObject({ any: z.array(z.lazy(() => conditionSchema)) }),
    z.strictObject({ not: z.lazy(() => conditionSchema) }),
    z.strictObject({ segment: z.string().describe('a segment name (journeys/segments/NAME.yaml)') }),
  ], { error: CONDITION_HINT })
  .describe('A condition: "count(login, 14d) = 0 and not account.high_touch", a list (all), or all:/any:/not:/segment:');

const duration = z.string().regex(/^\d+\s*(w|d|h|m)$/, 'expected a duration like 30m, 12h, 3d or 2w');
const days = z.string().regex(/^\d+\s*d$/, 'expected a number of days like 30d');
const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time HH:MM (24-hour)');
const stepId = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'step ids are lower-case letters, digits, - and _');
const weekday = z.enum(WEEKDAYS);
const trait = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const base = { id: stepId.describe('unique within the journey'), next: stepId.optional().describe('the step that follows (default: the next in the list)') };

const sendStep = z.strictObject({
  ...base,
  send: z.union([
    z.string().describe('a template name (templates/NAME/)'),
    z.strictObject({
      template: z.string(),
      subject: z.string().optional().describe('overrides the template subject line'),
      to: z.array(z.string()).min(1).optional().describe('per-account journeys: roles that receive this email'),
      category: z.enum(['marketing', 'operational']).optional().describe('default marketing (needs consent)'),
    }),
  ]),
});

const waitStep = z.strictObject({
  ...base,
  wait: z.union([
    duration,
    z.strictObject({
      for: duration.optional(),
      until: z
        .strictObject({
          time: localTime.optional().describe('at or after this local time'),
          before: localTime.optional().describe('and before this local time'),
          weekdays: z.array(weekday).min(1).optional(),
        })
        .optional()
        .describe("a window in the recipient's local time"),
    }),
  ]),
});

const waitUntilStep = z.strictObject({
  ...base,
  wait_until: z.strictObject({
    condition: conditionSchema.optional(),
    event: z.string().optional(),
    timeout: duration.optional(),
    then: stepId.optional().describe('next step when met (default: the next in the list)'),
    on_timeout: stepId.describe('next step when the timeout passes first'),
  }),
});

const branchStep = z.strictObject({
  ...base,
  branch: z.strictObject({ if: conditionSchema, then: stepId, else: stepId }),
});

const splitStep = z.strictObject({
  ...base,
  split: z.array(z.strictObject({ name: z.string().optional(), percent: z.number().int().min(0).max(100), next: stepId })).min(2),
});

const notifyStep = z.strictObject({
  ...base,
  notify_csm: z.strictObject({
    reason: z.string().min(1).describe('what the CSM should know and do'),
    webhook: z.url().optional().describe('POSTed the hand-off (retried)'),
  }),
});

const updateStep = z.strictObject({
  ...base,
  update: z.strictObject({
    phase: z.enum(PHASES).optional(),
    account: z.record(z.string(), trait).optional().describe('account traits to set'),
    contact: z.record(z.string(), trait).optional().describe('contact traits to set'),
  }),
});

const exitStep = z.strictObject({ ...base, exit: z.union([z.string(), z.literal(true)]).describe('a reason, or true') });

/** One schema per step type, keyed by the property that names the type. */
export const STEP_SCHEMAS = {
  send: sendStep,
  wait: waitStep,
  wait_until: waitUntilStep,
  branch: branchStep,
  split: splitStep,
  notify_csm: notifyStep,
  update: updateStep,
  exit: exitStep,
} as const;
export type StepType = keyof typeof STEP_SCHEMAS;

export const stepSchema = z.union(Object.values(STEP_SCHEMAS) as unknown as [typeof sendStep, typeof waitStep]);

const subjectSchema = z.union([
  z.literal('contact').describe('each matching contact is enrolled'),
  z.strictObject({
    per: z.literal('account'),
    recipients: z.strictObject({
      roles: z.array(z.string()).min(1),
      where: conditionSchema.optional().describe('a condition on each recipient, e.g. contact.consent'),
    }),
  }),
]);

const triggerSchema = z.union([
  z.strictObject({ event: z.string().describe('a tracked event or contact_created / contact_joined_account') }),
  z.strictObject({ condition: conditionSchema.describe('enrolls when this becomes true') }),
  z.strictObject({
    date: z.strictObject({
      field: z.enum(['renewal_date', 'contract_start']),
      days_before: z.number().int().min(0).optional(),
      days_after: z.number().int().min(0).optional(),
      at: localTime.optional(),
    }),
  }),
  z.strictObject({
    schedule: z.union([
      z.strictObject({ once: z.iso.datetime({ offset: true }).describe('ISO 8601 with offset, e.g. 2026-12-10T10:00:00+09:00') }),
      z.strictObject({
        every: z.enum(['day', 'week', 'month']),
        at: localTime,
        weekday: weekday.optional(),
        day: z.number().int().min(1).max(31).optional().describe('day of the month'),
        timezone: z.string().optional(),
      }),
    ]),
  }),
], { error: 'expected one of event:, condition:, date:, schedule:' });

export const journeyBaseShape = {
  key: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'keys are lower-case letters, digits and -'),
  name: z.string().min(1),
  description: z.string().optional(),
  phase: z.enum(PHASES),
  owner: z.string().optional(),
  priority: z.number().int().min(0).max(100).default(50).describe('higher wins when caps force a choice'),
  status: z.enum(['active', 'paused']).default('active'),
  locale: z.string().optional().describe('email locale when the contact has none'),
  subject: subjectSchema.default('contact'),
  audience: conditionSchema.optional(),
  trigger: triggerSchema,
  reentry: z
    .union([z.enum(['never', 'every_time']), z.string().regex(/^after \d+\s*d$/, 'expected never, every_time or "after 30d"')])
    .default('never'),
  goal: z.union([conditionSchema, z.strictObject({ condition: conditionSchema.optional(), event: z.string().optional(), description: z.string().optional() })]).optional(),
  holdout: z.union([z.number().min(0).max(50), z.string().regex(/^\d+(\.\d+)?%$/, 'expected a percentage like 10%')]).default(0),
};

/** The whole file, for the published JSON Schema. */
export const journeyFileSchema = z.strictObject({ ...journeyBaseShape, steps: z.array(stepSchema).min(1) });

/** The file without step details: steps are validated one by one against their own type. */
export const journeyHeadSchema = z.strictObject({ ...journeyBaseShape, steps: z.array(z.record(z.string(), z.unknown())).min(1) });

export const segmentFileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'names are lower-case letters, digits and -'),
  description: z.string().optional(),
  subject: z.enum(['account', 'contact']).default('account'),
  condition: conditionSchema,
});

export type JourneyFile = z.infer<typeof journeyFileSchema>;
export type SegmentFile = z.infer<typeof segmentFileSchema>;
