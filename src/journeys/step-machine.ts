import { createHash } from 'node:crypto';
import { Condition } from '../conditions/condition';
import { evaluateCondition } from '../conditions/evaluate';
import { Facts } from '../conditions/facts';
import { formatCondition } from '../conditions/format';
import { BranchStep, Journey, NotifyCsmStep, SendStep, SplitStep, Step, UpdateStep } from './journey';
import { formatDuration, nextLocalWindow } from './local-time';

/**
 * Pure step transitions shared by `journeys simulate` and the engine: given a journey
 * version, where an enrollment stands, its facts and the time, what happens next and why.
 * No database, no framework, no clock: the caller passes `now`.
 */
export interface EnrollmentPosition {
  stepId: string;
  enteredAt: Date;
  /** When the enrollment arrived at the current step (waits count from here). */
  stepStartedAt: Date;
  holdout: boolean;
}

export interface StepContext {
  now: Date;
  /** Facts of the subject at `now` (with `enteredDay` set for "since entry"). */
  facts: Facts;
  /** `contact:ID` or `account:ID`: the unit of deterministic draws (split arms, holdout). */
  subjectKey: string;
  /** IANA timezone for local-time waits: the contact's, else the account's, else the default. */
  timezone: string;
  /** Tracked events of the subject since the step started (for wait-until on an event). */
  eventsSinceStepStart?: string[];
  /** Skip the goal check (the engine checks the goal itself before calling, e.g. at entry). */
  skipGoal?: boolean;
}

export type Decision =
  | { action: 'goal'; reason: string }
  | { action: 'send'; step: SendStep; holdout: boolean; next?: string; reason: string }
  | { action: 'wait'; until: Date; reason: string }
  | { action: 'goto'; next: string; outcome: string; reason: string }
  | { action: 'handoff'; step: NotifyCsmStep; next?: string; reason: string }
  | { action: 'update'; step: UpdateStep; next?: string; reason: string }
  | { action: 'exit'; outcome: 'exited' | 'completed'; reason: string };

export function stepById(journey: Journey, id: string): Step | undefined {
  return journey.steps.find((s) => s.id === id);
}

export function decide(journey: Journey, pos: EnrollmentPosition, ctx: StepContext): Decision {
  if (!ctx.skipGoal && journey.goal) {
    const g = evaluateCondition(journey.goal.condition, ctx.facts);
    if (g.value) return { action: 'goal', reason: `goal reached: ${g.reasons.join('; ')}` };
  }
  const step = stepById(journey, pos.stepId);
  if (!step) return { action: 'exit', outcome: 'exited', reason: `step "${pos.stepId}" no longer exists in this version` };
  switch (step.type) {
    case 'send':
      return {
        action: 'send',
        step,
        holdout: pos.holdout,
        next: step.next,
        reason: pos.holdout ? `holdout: ${step.template} recorded, not sent` : `send ${step.template}`,
      };
    case 'wait': {
      const due = waitTarget(step, pos.stepStartedAt, ctx.timezone);
      if (ctx.now.getTime() >= due.getTime()) return advance(step.next, 'waited', `waited until ${due.toISOString()}`);
      return { action: 'wait', until: due, reason: describeWait(step) };
    }
    case 'wait_until': {
      if (step.event && ctx.eventsSinceStepStart?.includes(step.event)) return { action: 'goto', next: step.onMet, outcome: 'met', reason: `${step.event} happened` };
      if (step.condition) {
        const r = evaluateCondition(step.condition, ctx.facts);
        if (r.value) return { action: 'goto', next: step.onMet, outcome: 'met', reason: r.reasons.join('; ') };
      }
      const timeout = new Date(pos.stepStartedAt.getTime() + step.timeoutMs);
      if (ctx.now.getTime() >= timeout.getTime()) {
        return { action: 'goto', next: step.onTimeout, outcome: 'timeout', reason: `not met within ${formatDuration(step.timeoutMs)}` };
      }
      const what = [step.event ? `event ${step.event}` : '', step.condition ? formatCondition(step.condition) : ''].filter(Boolean).join(' or ');
      return { action: 'wait', until: timeout, reason: `waiting for ${what} (timeout ${timeout.toISOString()})` };
    }
    case 'branch':
      return branch(step, ctx.facts);
    case 'split':
      return split(step, journey.key, ctx.subjectKey);
    case 'notify_csm':
      return { action: 'handoff', step, next: step.next, reason: `hand-off to CSM: ${step.reason}` };
    case 'update':
      return { action: 'update', step, next: step.next, reason: describeUpdate(step) };
    case 'exit':
      return { action: 'exit', outcome: 'exited', reason: step.reason ?? `exit at ${step.id}` };
  }
}

function advance(next: string | undefined, outcome: string, reason: string): Decision {
  return next ? { action: 'goto', next, outcome, reason } : { action: 'exit', outcome: 'completed', reason: `${reason}; end of journey` };
}

function branch(step: BranchStep, facts: Facts): Decision {
  const r = evaluateCondition(step.condition, facts);
  return { action: 'goto', next: r.value ? step.then : step.else, outcome: r.value ? 'then' : 'else', reason: `${formatCondition(step.condition)}: ${r.reasons.join('; ')}` };
}

/** A bucket 0-99 from (journey, subject, salt): re-runs and other workers draw the same. */
export function bucket(journeyKey: string, subjectKey: string, salt: string): number {
  const h = createHash('sha256').update(`${journeyKey}\u0000${subjectKey}\u0000${salt}`).digest();
  return h.readUInt32BE(0) % 100;
}

/** Whether a subject entering a journey is in the control group. */
export function isHoldout(journey: Pick<Journey, 'key' | 'holdoutPercent'>, subjectKey: string): boolean {
  return journey.holdoutPercent > 0 && bucket(journey.key, subjectKey, 'holdout') < journey.holdoutPercent;
}

function split(step: SplitStep, journeyKey: string, subjectKey: string): Decision {
  const b = bucket(journeyKey, subjectKey, `split:${step.id}`);
  let acc = 0;
  for (const arm of step.arms) {
    acc += arm.percent;
    if (b < acc) return { action: 'goto', next: arm.next, outcome: arm.name, reason: `split arm ${arm.name} (bucket ${b} of 100)` };
  }
  const last = step.arms[step.arms.length - 1];
  return { action: 'goto', next: last.next, outcome: last.name, reason: `split arm ${last.name} (bucket ${b} of 100)` };
}

/** When a wait step ends: the fixed delay first, then the next local window. */
export function waitTarget(step: Extract<Step, { type: 'wait' }>, startedAt: Date, timezone: string): Date {
  const afterDelay = new Date(startedAt.getTime() + (step.durationMs ?? 0));
  return step.until ? nextLocalWindow(afterDelay, step.until, timezone) : afterDelay;
}

function describeWait(step: Extract<Step, { type: 'wait' }>): string {
  const parts: string[] = [];
  if (step.durationMs) parts.push(formatDuration(step.durationMs));
  if (step.until) {
    const w = step.until;
    parts.push(`then until ${w.weekdays?.length ? w.weekdays.join('/') + ' ' : ''}${w.from ?? '00:00'}${w.to ? '-' + w.to : ''} local time`);
  }
  return `wait ${parts.join(', ')}`;
}

function describeUpdate(step: UpdateStep): string {
  const parts: string[] = [];
  if (step.phase) parts.push(`phase → ${step.phase}`);
  for (const [k, v] of Object.entries(step.accountTraits ?? {})) parts.push(`account.trait.${k} → ${JSON.stringify(v)}`);
  for (const [k, v] of Object.entries(step.contactTraits ?? {})) parts.push(`contact.trait.${k} → ${JSON.stringify(v)}`);
  return `update ${parts.join(', ')}`;
}

/** The conditions a step (plus the goal) reads, so the caller fetches their facts in one batch. */
export function conditionsAt(journey: Journey, stepId: string): Condition[] {
  const out: Condition[] = journey.goal ? [journey.goal.condition] : [];
  const step = stepById(journey, stepId);
  if (step?.type === 'branch') out.push(step.condition);
  if (step?.type === 'wait_until' && step.condition) out.push(step.condition);
  return out;
}
