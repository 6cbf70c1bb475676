import type { Problem } from '../common/errors';

/**
 * What a CSM can do with a hand-off, in one place: assign (or reassign) while not closed,
 * acknowledge an open one, close an open or acknowledged one (optionally with an outcome).
 */
export type HandoffStatus = 'open' | 'acknowledged' | 'closed';
export type HandoffAction = { action: 'assign'; assignee: string | null } | { action: 'acknowledge'; assignee: string | null } | { action: 'close'; outcome: string | null };

/** From which statuses each action is allowed. */
export const ALLOWED_FROM: Record<HandoffAction['action'], HandoffStatus[]> = {
  assign: ['open', 'acknowledged'],
  acknowledge: ['open'],
  close: ['open', 'acknowledged'],
};

export const OUTCOMES = ['resolved', 'expansion', 'renewed', 'churn_risk', 'churned', 'no_response', 'not_needed'] as const;

const text = (v: unknown, max: number): string | null => {
  if (typeof v !== 'string') return null;
  const s = v.trim();
  return s ? s.slice(0, max) : null;
};

/** Parses a posted form into an action, or problems naming the field. */
export function parseHandoffAction(form: Record<string, unknown>, defaultAssignee: string): { action?: HandoffAction; problems: Problem[] } {
  const kind = form.action;
  if (kind === 'assign') {
    const assignee = text(form.assignee, 120);
    return { action: { action: 'assign', assignee }, problems: [] };
  }
  if (kind === 'acknowledge') return { action: { action: 'acknowledge', assignee: text(form.assignee, 120) ?? (defaultAssignee || null) }, problems: [] };
  if (kind === 'close') {
    const outcome = text(form.outcome, 500);
    return { action: { action: 'close', outcome }, problems: [] };
  }
  return { problems: [{ path: 'action', message: 'expected assign, acknowledge or close' }] };
}

/** The new status after an action, or why it is not allowed. */
export function transition(current: HandoffStatus, action: HandoffAction): { status: HandoffStatus } | { error: string } {
  if (!ALLOWED_FROM[action.action].includes(current)) return { error: `cannot ${action.action} a hand-off that is ${current}` };
  if (action.action === 'assign') return { status: current };
  return { status: action.action === 'acknowledge' ? 'acknowledged' : 'closed' };
}
