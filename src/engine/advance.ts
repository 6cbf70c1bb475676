import { Facts } from '../conditions/facts';
import { Journey, NotifyCsmStep, SendStep, UpdateStep } from '../journeys/journey';
import { decide, stepById } from '../journeys/step-machine';

/**
 * Pure: moves one enrollment through as many steps as it can at `now` (until it waits,
 * ends, or has taken `maxSteps`), using the journey language's `decide()` for every step.
 * Returns the side effects to apply and the history to record; the caller applies them in
 * one transaction fenced by the enrollment's lease. No database, no clock, no framework.
 */
export interface EnrollmentState {
  stepId: string;
  stepStartedAt: Date;
  enteredAt: Date;
  holdout: boolean;
  /** Transition counter: part of every side effect's idempotency key (a step may be revisited). */
  seq: number;
  /** Split arms taken so far, by split step id (for per-arm conversion reports). */
  arms: Record<string, string>;
}

export interface AdvanceInput {
  journey: Journey;
  state: EnrollmentState;
  facts: Facts;
  subjectKey: string;
  timezone: string;
  /** Tracked events of the subject since the current step started. */
  eventsSinceStepStart: string[];
  now: Date;
  maxSteps?: number;
}

export type Effect =
  | { kind: 'send'; step: SendStep; seq: number; holdout: boolean }
  | { kind: 'handoff'; step: NotifyCsmStep; seq: number; reason: string }
  | { kind: 'update'; step: UpdateStep; seq: number };

export interface HistoryEntry {
  stepId: string | null;
  outcome: string;
  reason: string;
}

export type FinalStatus = 'active' | 'converted' | 'completed' | 'exited';

export interface AdvancePlan {
  effects: Effect[];
  history: HistoryEntry[];
  status: FinalStatus;
  stepId: string;
  stepStartedAt: Date;
  seq: number;
  arms: Record<string, string>;
  /** When the enrollment needs attention again (null once it has ended). */
  dueAt: Date | null;
  endReason?: string;
}

export function planAdvance(input: AdvanceInput): AdvancePlan {
  const { journey, now } = input;
  const maxSteps = input.maxSteps ?? 25;
  const s = input.state;
  const plan: AdvancePlan = { effects: [], history: [], status: 'active', stepId: s.stepId, stepStartedAt: s.stepStartedAt, seq: s.seq, arms: { ...s.arms }, dueAt: null };
  let events = input.eventsSinceStepStart;
  let moved = false;
  const end = (status: FinalStatus, reason: string) => {
    plan.status = status;
    plan.dueAt = null;
    plan.endReason = reason;
    return plan;
  };
  // Returns false when the journey ended (no next step).
  const move = (next: string | undefined, reason: string): boolean => {
    if (!next) {
      end('completed', reason);
      plan.history.push({ stepId: null, outcome: 'completed', reason: 'end of journey' });
      return false;
    }
    plan.stepId = next;
    plan.stepStartedAt = now;
    plan.seq += 1;
    events = []; // nothing has happened since a step that starts now
    moved = true;
    return true;
  };

  for (let i = 0; i < maxSteps; i++) {
    const d = decide(journey, { stepId: plan.stepId, enteredAt: s.enteredAt, stepStartedAt: plan.stepStartedAt, holdout: s.holdout }, {
      now,
      facts: input.facts,
      subjectKey: input.subjectKey,
      timezone: input.timezone,
      eventsSinceStepStart: events,
    });
    const at = plan.stepId;
    switch (d.action) {
      case 'goal':
        plan.history.push({ stepId: at, outcome: 'converted', reason: d.reason });
        return end('converted', d.reason);
      case 'exit':
        plan.history.push({ stepId: at, outcome: d.outcome, reason: d.reason });
        return end(d.outcome, d.reason);
      case 'wait':
        // Record the wait once, when the step is reached (a wake-up that re-waits says nothing new).
        if (moved || s.seq === 0) plan.history.push({ stepId: at, outcome: 'waiting', reason: `${d.reason} (until ${d.until.toISOString()})` });
        plan.dueAt = d.until;
        return plan;
      case 'send':
        plan.effects.push({ kind: 'send', step: d.step, seq: plan.seq, holdout: d.holdout });
        plan.history.push({ stepId: at, outcome: d.holdout ? 'holdout' : 'sent', reason: d.reason });
        if (!move(d.next, d.reason)) return plan;
        break;
      case 'handoff':
        plan.effects.push({ kind: 'handoff', step: d.step, seq: plan.seq, reason: d.step.reason });
        plan.history.push({ stepId: at, outcome: 'handoff', reason: d.reason });
        if (!move(d.next, d.reason)) return plan;
        break;
      case 'update':
        plan.effects.push({ kind: 'update', step: d.step, seq: plan.seq });
        plan.history.push({ stepId: at, outcome: 'updated', reason: d.reason });
        if (!move(d.next, d.reason)) return plan;
        // The update changes facts the next steps may read: continue with fresh facts.
        plan.dueAt = now;
        return plan;
      case 'goto': {
        if (stepById(journey, at)?.type === 'split') plan.arms[at] = d.outcome;
        plan.history.push({ stepId: at, outcome: d.outcome, reason: d.reason });
        if (!move(d.next, d.reason)) return plan;
        break;
      }
    }
  }
  // A long chain of instant steps: continue at the next claim rather than hog the worker.
  plan.dueAt = now;
  return plan;
}
