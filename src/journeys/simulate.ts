import { allOf, Condition } from '../conditions/condition';
import { Facts, RequiredFacts, requiredFacts } from '../conditions/facts';
import { utcDay } from '../common/clock';
import { SubjectKind } from '../signals/signal';
import { Journey } from './journey';
import { nextScheduleTime } from './local-time';
import { decide, EnrollmentPosition, isHoldout } from './step-machine';

/**
 * `journeys simulate`: a dry run over a virtual clock. Reads the database through the
 * port (nothing is written), enrolls who the trigger would enrol day by day, and walks each
 * enrollment through the same step machine the engine uses. Updates are not applied and
 * nobody acts on the emails, so later conditions see the data as of the run.
 */
export interface SimulationPort {
  matching(subject: SubjectKind, cond: Condition, today: string, ids?: string[]): Promise<string[]>;
  facts(subject: SubjectKind, ids: string[], need: RequiredFacts, today: string): Promise<Map<string, Facts & { timezone: string | null }>>;
  /** Subjects (contact and its account) that had the event in [from, to). */
  eventEntrants(event: string, from: Date, to: Date): Promise<{ contactId: string | null; accountId: string | null; at: Date }[]>;
  /** Accounts whose date field plus offset falls on a day in [fromDay, toDay]. */
  dateEntrants(field: 'renewal_date' | 'contract_start', offsetDays: number, fromDay: string, toDay: string): Promise<{ accountId: string; day: string }[]>;
  recipients(accountIds: string[], roles: string[], where: Condition, today: string): Promise<Map<string, string[]>>;
  trackedEvents(subject: SubjectKind, ids: string[], names: string[], from: Date, to: Date): Promise<{ id: string; name: string; at: Date }[]>;
}

export interface SimulationOptions {
  asOf: Date;
  days: number;
  defaultTimezone: string;
  /** Report the path of these subjects in detail (ids of the journey's subject kind). */
  trace?: string[];
}

export interface PathEntry {
  at: string;
  step: string;
  action: string;
  outcome?: string;
  reason: string;
}

export interface SimulationReport {
  journey: string;
  subject: SubjectKind;
  from: string;
  to: string;
  entered: number;
  heldOut: number;
  enteredByDay: Record<string, number>;
  reached: Record<string, number>;
  outcomes: Record<string, Record<string, number>>;
  /** A few distinct reasons per step and outcome, to show why paths were taken. */
  why: Record<string, string[]>;
  emails: Record<string, Record<string, number>>;
  holdoutEmails: Record<string, number>;
  handoffs: number;
  updates: number;
  ended: Record<string, number>;
  activeAt: Record<string, number>;
  paths: Record<string, PathEntry[]>;
  notes: string[];
}

interface Enrollment extends EnrollmentPosition {
  subjectId: string;
  due: number;
  status: 'active' | 'converted' | 'exited' | 'completed';
  path: PathEntry[];
}

const DAY = 86_400_000;
const MAX_TRANSITIONS = 100;

export async function simulateJourney(journey: Journey, port: SimulationPort, opts: SimulationOptions): Promise<SimulationReport> {
  const subject: SubjectKind = journey.subject.type;
  const start = opts.asOf.getTime();
  const end = start + opts.days * DAY;
  const report: SimulationReport = {
    journey: journey.key, subject, from: opts.asOf.toISOString(), to: new Date(end).toISOString(), entered: 0, heldOut: 0, enteredByDay: {},
    reached: Object.fromEntries(journey.steps.map((s) => [s.id, 0])), outcomes: {}, why: {}, emails: {}, holdoutEmails: {}, handoffs: 0, updates: 0,
    ended: {}, activeAt: {}, paths: {}, notes: [],
  };
  if (journey.status === 'paused') report.notes.push('the journey is paused: the engine would neither enrol nor send');
  report.notes.push('frequency caps and quiet hours are not applied (no delivery guards in this build); update steps are not written');

  const allConds = [journey.audience, ...(journey.goal ? [journey.goal.condition] : []), ...journey.steps.flatMap((s) => (s.type === 'branch' ? [s.condition] : s.type === 'wait_until' && s.condition ? [s.condition] : []))];
  const need = requiredFacts(allConds, subject);
  const enrollments: Enrollment[] = [];
  const history = new Map<string, { lastEnd: number | null; active: boolean }>();
  const trace = new Set(opts.trace ?? []);

  const enrol = (ids: string[], at: number) => {
    for (const id of ids) {
      const h = history.get(id);
      if (h?.active) continue;
      if (h && journey.reentry.policy === 'never') continue;
      if (h && journey.reentry.policy === 'cooldown' && (h.lastEnd === null || at - h.lastEnd < journey.reentry.days * DAY)) continue;
      const key = `${subject}:${id}`;
      const holdout = isHoldout(journey, key);
      const e: Enrollment = { subjectId: id, stepId: journey.steps[0].id, enteredAt: new Date(at), stepStartedAt: new Date(at), holdout, due: at, status: 'active', path: [] };
      e.path.push({ at: new Date(at).toISOString(), step: '(entry)', action: 'enter', reason: holdout ? 'entered (control group: no email)' : 'entered' });
      enrollments.push(e);
      history.set(id, { lastEnd: null, active: true });
      report.entered++;
      if (holdout) report.heldOut++;
      const d = utcDay(new Date(at));
      report.enteredByDay[d] = (report.enteredByDay[d] ?? 0) + 1;
    }
  };

  // Entry times, by trigger kind; audience checked at the moment of entry.
  const entryPlan = await planEntries(journey, port, start, end, opts.defaultTimezone);
  let previous = new Set<string>();
  const advanceTo = async (t: number) => walk(journey, port, enrollments, history, need, report, t, end, opts.defaultTimezone);

  for (const slot of entryPlan) {
    await advanceTo(slot.at);
    const today = utcDay(new Date(slot.at));
    if (slot.kind === 'condition') {
      const cond = allOf(journey.audience, journey.trigger.type === 'condition' ? journey.trigger.condition : undefined);
      const now = new Set(await port.matching(subject, cond, today));
      // every_time: enrol when the condition newly holds (it did not at the previous evaluation);
      // never / cooldown: the enrolment history decides (see enrol).
      enrol([...now].filter((id) => journey.reentry.policy !== 'every_time' || !previous.has(id)), slot.at);
      previous = now;
    } else {
      const ids = slot.ids ? await port.matching(subject, journey.audience, today, slot.ids) : await port.matching(subject, journey.audience, today);
      enrol(ids, slot.at);
    }
  }
  await advanceTo(end);

  for (const e of enrollments) {
    if (e.status === 'active') report.activeAt[e.stepId] = (report.activeAt[e.stepId] ?? 0) + 1;
    else report.ended[e.status] = (report.ended[e.status] ?? 0) + 1;
    if (trace.has(e.subjectId)) report.paths[`${subject}:${e.subjectId}`] = [...(report.paths[`${subject}:${e.subjectId}`] ?? []), ...e.path];
  }
  for (const id of trace) if (!report.paths[`${subject}:${id}`]) report.paths[`${subject}:${id}`] = [];
  return report;
}

type Slot = { at: number; kind: 'condition' | 'list'; ids?: string[] };

async function planEntries(journey: Journey, port: SimulationPort, start: number, end: number, tz: string): Promise<Slot[]> {
  const t = journey.trigger;
  const slots: Slot[] = [];
  if (t.type === 'condition') {
    for (let at = start; at < end; at += DAY) slots.push({ at, kind: 'condition' });
  } else if (t.type === 'event') {
    const rows = await port.eventEntrants(t.event, new Date(start), new Date(end));
    for (const r of rows) {
      const id = journey.subject.type === 'contact' ? r.contactId : r.accountId;
      if (id) slots.push({ at: r.at.getTime(), kind: 'list', ids: [id] });
    }
  } else if (t.type === 'date') {
    const rows = await port.dateEntrants(t.field, t.offsetDays, utcDay(new Date(start)), utcDay(new Date(end)));
    const byDay = new Map<string, string[]>();
    for (const r of rows) byDay.set(r.day, [...(byDay.get(r.day) ?? []), r.accountId]);
    for (const [day, accounts] of byDay) {
      const at = Math.max(start, Date.parse(`${day}T${t.at ?? '00:00'}:00Z`));
      if (at >= end) continue;
      if (journey.subject.type === 'account') slots.push({ at, kind: 'list', ids: accounts });
      else slots.push({ at, kind: 'list', ids: undefined }); // contact journeys on a date: all matching contacts
    }
  } else {
    let at = nextScheduleTime(t.schedule, new Date(start - 1), tz);
    while (at && at.getTime() < end) {
      slots.push({ at: at.getTime(), kind: 'list' });
      at = nextScheduleTime(t.schedule, at, tz);
    }
  }
  return slots.sort((a, b) => a.at - b.at);
}

/** Advances every active enrollment due before `until` through the step machine. */
async function walk(
  journey: Journey, port: SimulationPort, enrollments: Enrollment[], history: Map<string, { lastEnd: number | null; active: boolean }>,
  need: RequiredFacts, report: SimulationReport, until: number, end: number, tz: string,
): Promise<void> {
  const subject = journey.subject.type;
  for (;;) {
    const due = enrollments.filter((e) => e.status === 'active' && e.due <= until && e.due < end);
    if (!due.length) return;
    const t = Math.min(...due.map((e) => e.due));
    const batch = due.filter((e) => e.due === t);
    const today = utcDay(new Date(t));
    const facts = await port.facts(subject, [...new Set(batch.map((e) => e.subjectId))], need, today);
    const eventNames = journey.steps.flatMap((s) => (s.type === 'wait_until' && s.event ? [s.event] : []));
    const seen = eventNames.length ? await port.trackedEvents(subject, batch.map((e) => e.subjectId), eventNames, new Date(Math.min(...batch.map((e) => e.stepStartedAt.getTime()))), new Date(t)) : [];
    for (const e of batch) {
      const f = facts.get(e.subjectId);
      if (!f) {
        finish(e, 'exited', t, 'the subject no longer exists', history);
        continue;
      }
      await advance(journey, port, e, { ...f, enteredDay: utcDay(e.enteredAt) }, f.timezone ?? tz, seen, report, t, history);
    }
  }
}

async function advance(
  journey: Journey, port: SimulationPort, e: Enrollment, facts: Facts, timezone: string, seen: { id: string; name: string; at: Date }[],
  report: SimulationReport, t: number, history: Map<string, { lastEnd: number | null; active: boolean }>,
): Promise<void> {
  const subjectKey = `${journey.subject.type}:${e.subjectId}`;
  const at = new Date(t).toISOString();
  let arrived = e.path.length === 1; // the first step counts as reached at entry
  for (let n = 0; n < MAX_TRANSITIONS; n++) {
    if (arrived) report.reached[e.stepId] = (report.reached[e.stepId] ?? 0) + 1;
    arrived = false;
    const events = seen.filter((s) => s.id === e.subjectId && s.at.getTime() >= e.stepStartedAt.getTime()).map((s) => s.name);
    const d = decide(journey, e, { now: new Date(t), facts, subjectKey, timezone, eventsSinceStepStart: events });
    const step = e.stepId;
    const record = (action: string, reason: string, outcome?: string) => e.path.push({ at, step, action, reason, ...(outcome ? { outcome } : {}) });
    const move = (next: string | undefined, reason: string) => {
      if (!next) return finish(e, 'completed', t, `${reason}; end of journey`, history);
      e.stepId = next;
      e.stepStartedAt = new Date(t);
      arrived = true;
    };
    switch (d.action) {
      case 'goal':
        record('goal', d.reason);
        return finish(e, 'converted', t, d.reason, history);
      case 'wait':
        record('wait', d.reason);
        e.due = d.until.getTime();
        return;
      case 'send': {
        const day = at.slice(0, 10);
        let count = 1;
        if (journey.subject.type === 'account') {
          const roles = d.step.roles ?? journey.subject.recipients.roles;
          count = (await port.recipients([e.subjectId], roles, journey.subject.recipients.where, day)).get(e.subjectId)?.length ?? 0;
        }
        if (d.holdout) report.holdoutEmails[d.step.template] = (report.holdoutEmails[d.step.template] ?? 0) + count;
        else {
          const perDay = (report.emails[d.step.template] ??= {});
          perDay[day] = (perDay[day] ?? 0) + count;
        }
        record('send', `${d.reason} to ${count} recipient${count === 1 ? '' : 's'}`);
        move(d.next, d.reason);
        break;
      }
      case 'goto': {
        const o = (report.outcomes[step] ??= {});
        o[d.outcome] = (o[d.outcome] ?? 0) + 1;
        const why = (report.why[`${step} → ${d.outcome}`] ??= []);
        if (why.length < 3 && !why.includes(d.reason)) why.push(d.reason);
        record('goto', d.reason, d.outcome);
        move(d.next, d.reason);
        break;
      }
      case 'handoff':
        report.handoffs++;
        record('handoff', d.reason);
        move(d.next, d.reason);
        break;
      case 'update':
        report.updates++;
        record('update', d.reason);
        move(d.next, d.reason);
        break;
      case 'exit':
        record('exit', d.reason);
        return finish(e, d.outcome, t, d.reason, history);
    }
    if (e.status !== 'active') return;
  }
  finish(e, 'exited', t, `more than ${MAX_TRANSITIONS} steps without a wait: a loop`, history);
}

function finish(e: Enrollment, status: Enrollment['status'], t: number, reason: string, history: Map<string, { lastEnd: number | null; active: boolean }>): void {
  if (e.path[e.path.length - 1]?.reason !== reason) e.path.push({ at: new Date(t).toISOString(), step: e.stepId, action: status, reason });
  e.status = status;
  history.set(e.subjectId, { lastEnd: t, active: false });
}
