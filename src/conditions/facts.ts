import { Signal, signalName, SubjectKind } from '../signals/signal';
import { AccountField, Condition, ContactField, isOperandRight, walkConditions, walkOperands } from './condition';

/**
 * What the in-memory evaluator knows about one subject. Dates are `YYYY-MM-DD` (UTC days,
 * like the rollups); numbers are JS numbers; traits are the parsed JSON objects.
 * `signals` is keyed by `signalName(signal)` and holds what `requiredFacts` asked for.
 */
export interface Facts {
  today: string;
  account: AccountFacts | null;
  contact?: ContactFacts | null;
  health?: HealthFacts | null;
  signals: Record<string, number | null>;
  /** UTC day the enrollment entered (for "since entry"). */
  enteredDay?: string;
}

export type FieldValue = string | number | boolean | null;

export type AccountFacts = { [K in AccountField]?: FieldValue } & { traits: Record<string, unknown> };

/** `role` is already resolved to the membership role in the evaluated account (else the contact's own). */
export type ContactFacts = { [K in ContactField]?: FieldValue } & { traits: Record<string, unknown> };

export interface HealthFacts {
  score: number | null;
  band: string | null;
  previous_score: number | null;
  previous_band: string | null;
  band_changed_day: string | null;
}

export interface RequiredFacts {
  subject: SubjectKind;
  /** Distinct signals, to fetch in one batched SignalsService.evaluate call. */
  signals: Signal[];
  contact: boolean;
  health: boolean;
  entry: boolean;
}

/** The signals and data a condition reads, so the caller fetches them in one batch. */
export function requiredFacts(conds: Condition | Condition[], subject: SubjectKind): RequiredFacts {
  const list = Array.isArray(conds) ? conds : [conds];
  const signals = new Map<string, Signal>();
  const out: RequiredFacts = { subject, signals: [], contact: false, health: false, entry: false };
  const addSignal = (s: Signal) => signals.set(signalName(s), s);
  for (const cond of list) {
    for (const o of walkOperands(cond)) {
      if (o.kind === 'signal') addSignal(o.signal);
      if (o.kind === 'contact' || o.kind === 'contact_trait') out.contact = true;
      if (o.kind === 'health') out.health = true;
    }
    for (const c of walkConditions(cond)) {
      if (c.type !== 'occurred') continue;
      for (const s of occurredSignals(c)) addSignal(s);
      if (c.sinceEntry) out.entry = true;
    }
  }
  out.signals = [...signals.values()];
  return out;
}

/** The signal(s) an `occurred` predicate reads; shared with the evaluator so keys match. */
export function occurredSignals(c: Extract<Condition, { type: 'occurred' }>): Signal[] {
  if (c.withinDays !== undefined) return [{ kind: 'event_count', event: c.event, days: c.withinDays, ...(c.of ? { of: c.of } : {}) }];
  return [{ kind: 'days_since_last', event: c.event, ...(c.of ? { of: c.of } : {}) }];
}

/** Whole days from `from` to `to` (both `YYYY-MM-DD`). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / 86_400_000);
}

export { isOperandRight };
