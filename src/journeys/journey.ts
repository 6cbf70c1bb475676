import { Condition } from '../conditions/condition';

/**
 * A validated journey, as the engine executes it (the YAML file is only its source).
 * Everything here is plain data: it is stored as a journey version (JSON) and read back.
 */
export interface Journey {
  key: string;
  name: string;
  description?: string;
  phase: Phase;
  owner?: string;
  /** Higher wins when frequency caps force a choice between journeys. */
  priority: number;
  status: 'active' | 'paused';
  /** Fallback locale of the emails when the contact has none (templates have one file per locale). */
  locale?: string;
  subject: JourneySubject;
  /** Account and contact conditions (named segments already inlined); `true` when none. */
  audience: Condition;
  /** Names of the segments the audience uses (for reports and reloading when a segment changes). */
  segments: string[];
  trigger: Trigger;
  reentry: Reentry;
  goal?: Goal;
  /** Percentage (0-100) of entrants kept as a control group: they walk the steps, no email is sent. */
  holdoutPercent: number;
  steps: Step[];
  /** Source file, for error messages and the console. */
  source?: string;
}

export const PHASES = ['onboarding', 'adoption', 'established', 'renewal', 'churned'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Per contact: each matching contact is enrolled. Per account: each matching account is
 * enrolled once, and its sends go to the account's contacts chosen by role (membership
 * role, else the contact's own) that satisfy `where` (e.g. consent).
 */
export type JourneySubject =
  | { type: 'contact' }
  | { type: 'account'; recipients: Recipients };

export interface Recipients {
  roles: string[];
  /** A condition over each recipient (contact fields/traits/consent); `true` when none. */
  where: Condition;
}

/**
 * Built-in lifecycle events the engine derives from identify/group calls, usable as
 * event triggers and goals alongside tracked product events.
 */
export const BUILTIN_EVENTS = {
  contact_created: 'a contact was identified for the first time',
  contact_joined_account: 'a contact was linked to an account (group call)',
} as const;

export type Trigger =
  | { type: 'event'; event: string }
  /** Enrolls when the condition becomes true for a subject (evaluated set-based, on a schedule). */
  | { type: 'condition'; condition: Condition }
  /** Fires once per date: `offsetDays` from the account's date field (negative = before). */
  | { type: 'date'; field: 'renewal_date' | 'contract_start'; offsetDays: number; at?: LocalTime }
  | { type: 'schedule'; schedule: Schedule };

/** `HH:MM` in the subject's timezone (contact, then account, then the default). */
export type LocalTime = string;

export type Schedule =
  /** One-off broadcast at an instant (ISO 8601 with offset). */
  | { once: string }
  /** Recurring, in `timezone` (default: the configured default timezone). */
  | { every: 'day' | 'week' | 'month'; at: LocalTime; weekday?: Weekday; dayOfMonth?: number; timezone?: string };

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export type Reentry =
  | { policy: 'never' }
  | { policy: 'cooldown'; days: number }
  /** Each time the trigger newly becomes true (after the previous enrollment ended). */
  | { policy: 'every_time' };

/**
 * Ends the journey as converted at any step. `condition` already includes the events as
 * `occurred(EVENT, since entry)`; `events` lists them so the engine can check at event time.
 */
export interface Goal {
  condition: Condition;
  events: string[];
  description?: string;
}

export type Step = SendStep | WaitStep | WaitUntilStep | BranchStep | SplitStep | NotifyCsmStep | UpdateStep | ExitStep;

interface StepBase {
  id: string;
  /** The step that follows (absent for steps that choose their own path, and for exit). */
  next?: string;
}

export interface SendStep extends StepBase {
  type: 'send';
  template: string;
  /** Overrides the template's subject line (a Handlebars string). */
  subject?: string;
  /** Per-account journeys: recipients' roles for this send (else the journey's recipients). */
  roles?: string[];
  category: 'marketing' | 'operational';
  next: string | undefined;
}

export interface WaitStep extends StepBase {
  type: 'wait';
  /** A fixed delay in milliseconds (applied first)… */
  durationMs?: number;
  /** …then until the next local time window (subject's timezone). */
  until?: LocalWindow;
}

/** A window in local time: at or after `from`, before `to`, on one of `weekdays`. */
export interface LocalWindow {
  from?: LocalTime;
  to?: LocalTime;
  weekdays?: Weekday[];
}

export interface WaitUntilStep extends StepBase {
  type: 'wait_until';
  condition?: Condition;
  event?: string;
  timeoutMs: number;
  /** Next step when the condition/event happens before the timeout… */
  onMet: string;
  /** …and when the timeout passes first. */
  onTimeout: string;
}

export interface BranchStep extends StepBase {
  type: 'branch';
  condition: Condition;
  then: string;
  else: string;
}

export interface SplitStep extends StepBase {
  type: 'split';
  arms: { name: string; percent: number; next: string }[];
}

export interface NotifyCsmStep extends StepBase {
  type: 'notify_csm';
  reason: string;
  /** A URL to POST the hand-off to (with retries); absent = only the task row. */
  webhook?: string;
}

export interface UpdateStep extends StepBase {
  type: 'update';
  phase?: Phase;
  accountTraits?: Record<string, string | number | boolean | null>;
  contactTraits?: Record<string, string | number | boolean | null>;
}

export interface ExitStep extends StepBase {
  type: 'exit';
  reason?: string;
}

/** A named, reusable audience (journeys/segments/NAME.yaml). */
export interface Segment {
  name: string;
  description?: string;
  subject: 'account' | 'contact';
  condition: Condition;
  source?: string;
}
