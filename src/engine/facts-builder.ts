import { utcDay } from '../common/clock';
import { copyWith } from '../common/copy-with';
import { Condition, walkOperands } from '../conditions/condition';
import { Facts, requiredFacts, RequiredFacts } from '../conditions/facts';
import { Journey } from '../journeys/journey';
import { isValidTimezone } from '../journeys/local-time';
import { signalName } from '../signals/signal';
import type { FactsRead, FactsRow } from './enrollments.repository';

/** Every condition a journey version can read at any step (goal, branches, waits). */
export function journeyConditions(journey: Journey): Condition[] {
  const out: Condition[] = journey.goal ? [journey.goal.condition] : [];
  for (const s of journey.steps) {
    if (s.type === 'branch') out.push(s.condition);
    if (s.type === 'wait_until' && s.condition) out.push(s.condition);
  }
  return out;
}

/** What to fetch for a batch of enrollments of several versions with one subject kind. */
export function batchRequirements(journeys: Journey[], subject: 'account' | 'contact'): RequiredFacts & { events: string[]; read: FactsRead } {
  const conditions = journeys.flatMap(journeyConditions);
  const req = requiredFacts(conditions, subject);
  const events = new Set<string>();
  for (const j of journeys) for (const s of j.steps) if (s.type === 'wait_until' && s.event) events.add(s.event);
  const operands = conditions.flatMap(walkOperands);
  const read: FactsRead = {
    accountTraits: operands.some((o) => o.kind === 'account_trait'),
    contactTraits: operands.some((o) => o.kind === 'contact_trait'),
    // Conditions on health, and hand-offs (they store the health with their signals).
    health: req.health || journeys.some((j) => j.steps.some((s) => s.type === 'notify_csm')),
  };
  return { ...req, events: [...events], read };
}

/** Turns a facts row into the evaluator's Facts (dates as YYYY-MM-DD, role per membership). */
export function toFacts(row: FactsRow, req: RequiredFacts, now: Date, enteredAt: Date): Facts {
  const a = row.account;
  const c = row.contact;
  return {
    today: utcDay(now),
    enteredDay: utcDay(enteredAt),
    account: a ? copyWith(a, { mrr: a.mrr === null || a.mrr === undefined ? null : Number(a.mrr), traits: a.traits ?? {} }) : null,
    contact: c ? copyWith(c, { role: row.memberRole ?? c.role ?? null, consent: c.consent_marketing ?? null, traits: c.traits ?? {} }) : null,
    health: row.health
      ? {
          score: row.health.score === null ? null : Number(row.health.score),
          band: row.health.band,
          previous_score: row.health.previous_score === null ? null : Number(row.health.previous_score),
          previous_band: row.health.previous_band,
          band_changed_day: row.health.band_changed_day,
        }
      : null,
    signals: Object.fromEntries(req.signals.map((s, i) => [signalName(s), row.signals[i]])),
  };
}

/** The subject's timezone: the contact's, else the account's, else the default (invalid names skipped). */
export function subjectTimezone(row: FactsRow | undefined, fallback: string): string {
  for (const tz of [row?.contact?.timezone, row?.account?.timezone]) if (typeof tz === 'string' && tz && isValidTimezone(tz)) return tz;
  return fallback;
}
