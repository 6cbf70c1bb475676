import { didYouMean } from '../common/suggest';
import { allOf, Condition, TRUE } from '../conditions/condition';
import { neverTrue } from '../conditions/satisfiable';
import { Catalog, checkEvent, conditionFromYaml, ConditionPlace, ConditionScope } from './condition-yaml';
import { Goal, Journey, JourneySubject, Reentry, Segment, Step, Trigger } from './journey';
import { ConditionInput, journeyBaseShape, journeyHeadSchema, segmentFileSchema, STEP_SCHEMAS, StepType } from './journey.schema';
import { isValidTimezone, parseDuration } from './local-time';
import { YamlSource } from './yaml-source';
import { reportZodIssues } from './zod-yaml';

const STEP_TYPES = Object.keys(STEP_SCHEMAS) as StepType[];
const ALL_KEYS = [...new Set([...Object.keys(journeyBaseShape), 'steps', 'id', 'next', ...STEP_TYPES, 'template', 'subject', 'to', 'category', 'for', 'until', 'time', 'before', 'weekdays', 'condition', 'event', 'timeout', 'then', 'on_timeout', 'if', 'else', 'name', 'percent', 'reason', 'webhook', 'phase', 'account', 'contact', 'per', 'recipients', 'roles', 'where', 'date', 'schedule', 'field', 'days_before', 'days_after', 'at', 'once', 'every', 'weekday', 'day', 'timezone', 'description', 'all', 'any', 'not', 'segment'])];

/** A segment file → Segment (problems recorded on `src`); it may use the segments compiled before it. */
export function compileSegment(src: YamlSource, known: ReadonlyMap<string, Segment> = new Map()): Segment | undefined {
  if (!src.ok) return undefined;
  const raw = src.toJS();
  const parsed = segmentFileSchema.safeParse(raw);
  if (!parsed.success) {
    reportZodIssues(src, parsed.error.issues, [], raw, ['name', 'description', 'subject', 'condition']);
    return undefined;
  }
  const f = parsed.data;
  const scope: ConditionScope = { src, catalog: { templates: null, events: null, segments: known }, subject: f.subject, place: 'segment' };
  const condition = conditionFromYaml(f.condition, ['condition'], scope);
  return condition && { name: f.name, description: f.description, subject: f.subject, condition, source: src.file };
}

/** Events referenced by segments are checked once the event catalog is known. */
export function checkSegmentEvents(src: YamlSource, catalog: Catalog): void {
  const raw = src.toJS() as { subject?: 'account' | 'contact'; condition?: ConditionInput };
  if (!raw?.condition) return;
  conditionFromYaml(raw.condition, ['condition'], { src, catalog, subject: raw.subject ?? 'account', place: 'segment' });
}

/** A journey file → Journey. Every problem is recorded on `src`; undefined when any was found. */
export function compileJourney(src: YamlSource, catalog: Catalog): Journey | undefined {
  if (!src.ok) return undefined;
  const raw = src.toJS();
  const head = journeyHeadSchema.safeParse(raw);
  if (!head.success) reportZodIssues(src, head.error.issues, [], raw, ALL_KEYS);
  const steps = Array.isArray((raw as { steps?: unknown })?.steps) ? ((raw as { steps: unknown[] }).steps) : [];
  const parsedSteps = steps.map((s, i) => parseStep(src, s, i));
  if (!head.success || parsedSteps.some((s) => !s)) return undefined;

  const f = head.data;
  const subject: JourneySubject = f.subject === 'contact' ? { type: 'contact' } : { type: 'account', recipients: { roles: f.subject.recipients.roles, where: TRUE } };
  const subj = subject.type;
  const segmentsUsed = new Set<string>();
  const scope = (place: ConditionPlace, s: 'account' | 'contact' = subj): ConditionScope => ({ src, catalog, subject: s, place, journeyKey: f.key, segmentsUsed });
  const cond = (input: ConditionInput | undefined, path: (string | number)[], place: ConditionPlace, s?: 'account' | 'contact') =>
    input === undefined ? TRUE : conditionFromYaml(input, path, scope(place, s));

  const audience = cond(f.audience, ['audience'], 'audience');
  if (subject.type === 'account' && f.subject !== 'contact' && f.subject.recipients.where !== undefined) {
    const where = cond(f.subject.recipients.where, ['subject', 'recipients', 'where'], 'recipients', 'contact');
    if (where) subject.recipients.where = where;
  }
  const trigger = compileTrigger(src, f.trigger, catalog, (i, p) => cond(i, p, 'trigger'));
  const goal = compileGoal(src, f.goal, catalog, (i, p) => cond(i, p, 'goal'));
  const compiledSteps = compileSteps(src, parsedSteps as RawStep[], catalog, (i, p) => cond(i, p, 'step'));
  const reentry = compileReentry(f.reentry);
  const holdoutPercent = typeof f.holdout === 'number' ? f.holdout : Number(f.holdout.replace('%', ''));
  if (holdoutPercent > 50) src.problem(['holdout'], 'a holdout above 50% leaves too few treated entrants');

  if (audience && compiledSteps) checkConsent(src, subject, audience, compiledSteps);
  if (src.problems.length || !audience || !trigger || !compiledSteps || goal === null) return undefined;
  return {
    key: f.key,
    name: f.name,
    ...(f.description ? { description: f.description } : {}),
    phase: f.phase,
    ...(f.owner ? { owner: f.owner } : {}),
    priority: f.priority,
    status: f.status,
    ...(f.locale ? { locale: f.locale } : {}),
    subject,
    audience,
    segments: [...segmentsUsed].sort(),
    trigger,
    reentry,
    ...(goal ? { goal } : {}),
    holdoutPercent,
    steps: compiledSteps,
    source: src.file,
  };
}

type RawStep = { type: StepType; index: number; data: Record<string, unknown> };

function parseStep(src: YamlSource, s: unknown, i: number): RawStep | undefined {
  if (!s || typeof s !== 'object' || Array.isArray(s)) return undefined; // reported by the head schema
  const keys = Object.keys(s);
  const types = STEP_TYPES.filter((t) => keys.includes(t));
  if (types.length !== 1) {
    const unknown = keys.filter((k) => k !== 'id' && k !== 'next' && !STEP_TYPES.includes(k as StepType));
    const hint = unknown.length ? didYouMean(unknown[0], STEP_TYPES) : '';
    src.problem(['steps', i], types.length ? `a step has one type; found ${types.join(' and ')}` : `a step needs one of ${STEP_TYPES.join(', ')}${hint}`);
    return undefined;
  }
  const r = STEP_SCHEMAS[types[0]].safeParse(s);
  if (!r.success) {
    reportZodIssues(src, r.error.issues, ['steps', i], s, ALL_KEYS);
    return undefined;
  }
  return { type: types[0], index: i, data: r.data as Record<string, unknown> };
}

type Cond = (input: ConditionInput | undefined, path: (string | number)[]) => Condition | undefined;

function compileTrigger(src: YamlSource, t: Record<string, unknown>, catalog: Catalog, cond: Cond): Trigger | undefined {
  if ('event' in t) {
    const event = t.event as string;
    const before = src.problems.length;
    checkEvent(event, catalog, (m) => src.problem(['trigger', 'event'], m));
    return src.problems.length === before ? { type: 'event', event } : undefined;
  }
  if ('condition' in t) {
    const c = cond(t.condition as ConditionInput, ['trigger', 'condition']);
    return c && { type: 'condition', condition: c };
  }
  if ('date' in t) {
    const d = t.date as { field: 'renewal_date' | 'contract_start'; days_before?: number; days_after?: number; at?: string };
    if ((d.days_before === undefined) === (d.days_after === undefined)) {
      src.problem(['trigger', 'date'], 'give exactly one of days_before or days_after');
      return undefined;
    }
    return { type: 'date', field: d.field, offsetDays: d.days_before !== undefined ? -d.days_before : d.days_after!, ...(d.at ? { at: d.at } : {}) };
  }
  const s = t.schedule as Record<string, unknown>;
  if ('once' in s) return { type: 'schedule', schedule: { once: s.once as string } };
  const every = s.every as 'day' | 'week' | 'month';
  if (s.timezone !== undefined && !isValidTimezone(s.timezone as string)) src.problem(['trigger', 'schedule', 'timezone'], `unknown timezone "${s.timezone}"`);
  if (every === 'week' && !s.weekday) src.problem(['trigger', 'schedule'], 'a weekly schedule needs a weekday');
  if (every !== 'week' && s.weekday) src.problem(['trigger', 'schedule', 'weekday'], 'weekday only applies to every: week');
  if (every !== 'month' && s.day) src.problem(['trigger', 'schedule', 'day'], 'day only applies to every: month');
  return {
    type: 'schedule',
    schedule: { every, at: s.at as string, ...(s.weekday ? { weekday: s.weekday as never } : {}), ...(s.day ? { dayOfMonth: s.day as number } : {}), ...(s.timezone ? { timezone: s.timezone as string } : {}) },
  };
}

/** null = invalid; undefined = no goal. */
function compileGoal(src: YamlSource, g: unknown, catalog: Catalog, cond: Cond): Goal | undefined | null {
  if (g === undefined) return undefined;
  const isObj = typeof g === 'object' && g !== null && !Array.isArray(g) && ('condition' in g || 'event' in g || 'description' in g);
  const input = isObj ? (g as { condition?: ConditionInput; event?: string; description?: string }) : { condition: g as ConditionInput };
  const path = isObj ? ['goal', 'condition'] : ['goal'];
  if (input.condition === undefined && input.event === undefined) {
    src.problem(['goal'], 'a goal needs a condition or an event');
    return null;
  }
  const parts: Condition[] = [];
  if (input.condition !== undefined) {
    const c = cond(input.condition, path);
    if (!c) return null;
    const why = neverTrue(c);
    if (why) {
      src.problem(path, `this goal can never be true: ${why}`);
      return null;
    }
    parts.push(c);
  }
  const events: string[] = [];
  if (input.event !== undefined) {
    const before = src.problems.length;
    checkEvent(input.event, catalog, (m) => src.problem(['goal', 'event'], m));
    if (src.problems.length > before) return null;
    events.push(input.event);
  }
  // Either the condition or the event reaches the goal.
  const eventConds: Condition[] = events.map((event) => ({ type: 'occurred', event, sinceEntry: true }));
  const all = [...parts, ...eventConds];
  const condition: Condition = all.length === 1 ? all[0] : { type: 'any', of: all };
  return { condition, events, ...(input.description ? { description: input.description } : {}) };
}

function compileReentry(r: string): Reentry {
  if (r === 'never' || r === 'every_time') return { policy: r };
  return { policy: 'cooldown', days: Number(/\d+/.exec(r)![0]) };
}

function compileSteps(src: YamlSource, raw: RawStep[], catalog: Catalog, cond: Cond): Step[] | undefined {
  const ids = new Map<string, number>();
  for (const s of raw) {
    const id = s.data.id as string;
    if (ids.has(id)) src.problem(['steps', s.index, 'id'], `duplicate step id "${id}" (also steps[${ids.get(id)}])`);
    else ids.set(id, s.index);
  }
  const following = (i: number) => (i + 1 < raw.length ? (raw[i + 1].data.id as string) : undefined);
  const ref = (target: string, path: (string | number)[]) => {
    if (!ids.has(target)) src.problem(path, `unknown step "${target}"${didYouMean(target, ids.keys())}`);
    return target;
  };
  const steps: Step[] = [];
  let ok = true;
  for (const s of raw) {
    const d = s.data as Record<string, never>;
    const at = (...p: (string | number)[]) => ['steps', s.index, ...p];
    const id = d.id as string;
    const next = d.next ? ref(d.next, at('next')) : following(s.index);
    switch (s.type) {
      case 'send': {
        const v = d.send as string | { template: string; subject?: string; to?: string[]; category?: 'marketing' | 'operational' };
        const spec = typeof v === 'string' ? { template: v } : v;
        if (catalog.templates && !catalog.templates.has(spec.template)) {
          src.problem(typeof v === 'string' ? at('send') : at('send', 'template'), `unknown template "${spec.template}"${didYouMean(spec.template, catalog.templates)}`);
        }
        steps.push({ id, type: 'send', template: spec.template, ...(spec.subject ? { subject: spec.subject } : {}), ...(spec.to ? { roles: spec.to } : {}), category: spec.category ?? 'marketing', next });
        break;
      }
      case 'wait': {
        const v = d.wait as string | { for?: string; until?: { time?: string; before?: string; weekdays?: never[] } };
        const spec = typeof v === 'string' ? { for: v } : v;
        if (!spec.for && !spec.until) src.problem(at('wait'), 'a wait needs for: or until:');
        const until = spec.until && { ...(spec.until.time ? { from: spec.until.time } : {}), ...(spec.until.before ? { to: spec.until.before } : {}), ...(spec.until.weekdays ? { weekdays: spec.until.weekdays } : {}) };
        steps.push({ id, type: 'wait', ...(spec.for ? { durationMs: parseDuration(spec.for)! } : {}), ...(until ? { until } : {}), next });
        break;
      }
      case 'wait_until': {
        const v = d.wait_until as { condition?: ConditionInput; event?: string; timeout?: string; then?: string; on_timeout: string };
        if (!v.timeout) src.problem(at('wait_until'), 'a wait_until needs a timeout (e.g. timeout: 7d), or it could wait forever');
        if (v.condition === undefined && v.event === undefined) src.problem(at('wait_until'), 'a wait_until needs a condition or an event');
        const c = v.condition === undefined ? undefined : cond(v.condition, at('wait_until', 'condition'));
        if (v.condition !== undefined && !c) ok = false;
        if (v.event) checkEvent(v.event, catalog, (m) => src.problem(at('wait_until', 'event'), m));
        const onMet = v.then ? ref(v.then, at('wait_until', 'then')) : following(s.index);
        if (!onMet) src.problem(at('wait_until'), 'the last step needs then: (where to go when met)');
        steps.push({ id, type: 'wait_until', ...(c ? { condition: c } : {}), ...(v.event ? { event: v.event } : {}), timeoutMs: v.timeout ? parseDuration(v.timeout)! : 0, onMet: onMet ?? '', onTimeout: ref(v.on_timeout, at('wait_until', 'on_timeout')) });
        break;
      }
      case 'branch': {
        const v = d.branch as { if: ConditionInput; then: string; else: string };
        const c = cond(v.if, at('branch', 'if'));
        if (!c) ok = false;
        steps.push({ id, type: 'branch', condition: c ?? TRUE, then: ref(v.then, at('branch', 'then')), else: ref(v.else, at('branch', 'else')) });
        break;
      }
      case 'split': {
        const arms = (d.split as { name?: string; percent: number; next: string }[]).map((a, i) => ({ name: a.name ?? String.fromCharCode(65 + i), percent: a.percent, next: ref(a.next, at('split', i, 'next')) }));
        const sum = arms.reduce((n, a) => n + a.percent, 0);
        if (sum !== 100) src.problem(at('split'), `split percentages add up to ${sum}, not 100`);
        steps.push({ id, type: 'split', arms });
        break;
      }
      case 'notify_csm': {
        const v = d.notify_csm as { reason: string; webhook?: string };
        steps.push({ id, type: 'notify_csm', reason: v.reason, ...(v.webhook ? { webhook: v.webhook } : {}), next });
        break;
      }
      case 'update': {
        const v = d.update as { phase?: never; account?: Record<string, never>; contact?: Record<string, never> };
        if (!v.phase && !v.account && !v.contact) src.problem(at('update'), 'an update needs phase:, account: or contact:');
        steps.push({ id, type: 'update', ...(v.phase ? { phase: v.phase } : {}), ...(v.account ? { accountTraits: v.account } : {}), ...(v.contact ? { contactTraits: v.contact } : {}), next });
        break;
      }
      case 'exit':
        steps.push({ id, type: 'exit', ...(typeof d.exit === 'string' ? { reason: d.exit } : {}) });
        break;
    }
  }
  // An unknown target already explains why later steps look unreachable.
  if (!src.problems.some((p) => p.message.startsWith('unknown step'))) checkReachable(src, steps, raw);
  return ok ? steps : undefined;
}

/** Every step must be reachable from the first one. */
function checkReachable(src: YamlSource, steps: Step[], raw: RawStep[]): void {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const stack = steps.length ? [steps[0].id] : [];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || !byId.has(id)) continue;
    seen.add(id);
    const s = byId.get(id)!;
    const out = s.type === 'branch' ? [s.then, s.else] : s.type === 'split' ? s.arms.map((a) => a.next) : s.type === 'wait_until' ? [s.onMet, s.onTimeout] : s.next ? [s.next] : [];
    stack.push(...out);
  }
  steps.forEach((s, i) => {
    if (!seen.has(s.id) && raw[i] && !steps.slice(0, i).some((x) => x.id === s.id)) src.problem(['steps', raw[i].index, 'id'], `step "${s.id}" can never be reached`);
  });
}

/** Marketing email needs consent: the audience (or recipients.where) must require contact.consent. */
function checkConsent(src: YamlSource, subject: JourneySubject, audience: Condition, steps: Step[]): void {
  const requires = (c: Condition): boolean =>
    c.type === 'all' ? c.of.some(requires) : c.type === 'compare' && c.left.kind === 'contact' && c.left.field === 'consent' && c.op === '=' && c.right === true;
  const guarded = subject.type === 'contact' ? requires(audience) : requires(subject.recipients.where);
  if (guarded) return;
  steps.forEach((s, i) => {
    if (s.type === 'send' && s.category === 'marketing') {
      const where = subject.type === 'contact' ? 'the audience' : 'subject.recipients.where';
      src.problem(['steps', i, 'send'], `sends marketing email to contacts without consent: add "contact.consent" to ${where} (or category: operational)`);
    }
  });
}

export { allOf };
