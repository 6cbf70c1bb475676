import * as path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { formatPath, Problem } from '../common/errors';
import { Bands, Component, HealthModel, Measure, MeasureKind, PHASES, Phase, Points, Profile } from './health-model';

/**
 * Reads `health.yaml`: YAML (with line numbers kept), then zod for shapes, then semantic checks
 * that zod cannot express (increasing points, band order, profile weights naming real
 * components). Every problem is reported as `file:line:col: path: message`.
 */

export type HealthFileResult = { ok: true; model: HealthModel } | { ok: false; problems: Problem[] };

const KINDS = ['days_since_last', 'frequency_change', 'feature_breadth', 'active_users', 'email_engagement', 'nps', 'open_handoffs'] as const satisfies readonly MeasureKind[];

const eventName = z.string({ message: 'expected an event name' }).min(1, 'expected an event name');
const events = z.array(eventName, { message: 'expected a list of event names' }).min(1, 'expected at least one event');
const days = (max: number) => z.number({ message: 'expected a number of days' }).int('expected a whole number of days').min(1, 'expected at least 1 day').max(max, `expected at most ${max} days`);
const points0to100 = z.number({ message: 'expected points from 0 to 100' }).min(0, 'points are from 0 to 100').max(100, 'points are from 0 to 100');
const pointPair = z.tuple([z.number({ message: 'expected a number (the signal value)' }).finite(), points0to100], { message: 'expected a [value, points] pair' });

const base = {
  measure: z.enum(KINDS),
  weight: z.number({ message: 'expected a weight (a number, 0 or more)' }).min(0, 'a weight cannot be negative').max(1000, 'a weight is at most 1000'),
  points: z.array(pointPair, { message: 'expected a list of [value, points] pairs' }).min(2, 'expected at least two [value, points] pairs'),
  missing: z.union([points0to100, z.literal('skip')], { message: 'expected points from 0 to 100, or skip' }).default('skip'),
  description: z.string().optional(),
};

/** Each measure's own parameters (strict: an unknown field is reported, not ignored). */
const componentSchemas: Record<MeasureKind, z.ZodType> = {
  days_since_last: z.strictObject({ ...base, events }),
  frequency_change: z.strictObject({ ...base, events, days: days(180) }),
  feature_breadth: z.strictObject({ ...base, events, days: days(365) }),
  active_users: z.strictObject({ ...base, days: days(365), event: eventName.optional() }),
  email_engagement: z.strictObject({ ...base, days: days(365) }),
  nps: z.strictObject({ ...base, days: days(730) }),
  open_handoffs: z.strictObject({ ...base }),
};

const bandsSchema = z
  .strictObject({
    green: z.number({ message: 'expected a score from 0 to 100' }).min(0).max(100),
    yellow: z.number({ message: 'expected a score from 0 to 100' }).min(0).max(100),
  })
  .refine((b) => b.yellow < b.green, { message: 'yellow must be below green (red is below yellow)', path: ['yellow'] });

const fileSchema = z.strictObject({
  version: z.literal(1, { message: 'expected version: 1' }).optional(),
  bands: bandsSchema,
  components: z.record(
    z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'component names are lower_snake_case (up to 40 characters)'),
    z.looseObject({ measure: z.enum(KINDS, { message: `expected a measure: one of ${KINDS.join(', ')}` }) }),
    { message: 'expected a map of components' },
  ),
  profiles: z
    .partialRecord(
      z.enum(PHASES, { message: `profiles are named for a lifecycle phase: one of ${PHASES.join(', ')}` }),
      z.strictObject({
        weights: z.record(z.string(), z.number({ message: 'expected a weight (a number, 0 or more)' }).min(0, 'a weight cannot be negative').max(1000)).optional(),
        bands: bandsSchema.optional(),
      }),
    )
    .optional(),
});

type Raw = z.infer<typeof fileSchema>;

export function parseHealthFile(file: string, text: string): HealthFileResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = locator(file, doc, lines);
  if (doc.errors.length) {
    return { ok: false, problems: doc.errors.map((e) => ({ path: position(file, lines, e.pos[0]), message: e.message.split('\n')[0] })) };
  }
  const problems: Problem[] = [];
  const js: unknown = doc.toJS() ?? {};
  const parsed = fileSchema.safeParse(js);
  if (!parsed.success) pushIssues(parsed.error, [], at, problems);
  // Components are checked one by one even when something else is wrong, so that one run reports everything.
  const rawComponents = isPlainObject(js) && isPlainObject(js.components) ? js.components : {};
  const components: Component[] = [];
  for (const [name, rawComponent] of Object.entries(rawComponents)) {
    const kind = isPlainObject(rawComponent) ? (rawComponent.measure as MeasureKind) : undefined;
    if (!kind || !componentSchemas[kind]) continue; // reported by the file schema
    const rawPoints = (rawComponent as Record<string, unknown>).points;
    if (Array.isArray(rawPoints)) {
      for (let i = 1; i < rawPoints.length; i++) {
        const [a, b] = [rawPoints[i - 1], rawPoints[i]].map((pair) => (Array.isArray(pair) ? pair[0] : undefined));
        if (typeof a === 'number' && typeof b === 'number' && !(b > a))
          problems.push(at(['components', name, 'points', i], `values must increase from pair to pair (${b} after ${a})`));
      }
    }
    const one = componentSchemas[kind].safeParse(rawComponent);
    if (!one.success) {
      pushIssues(one.error, ['components', name], at, problems);
      continue;
    }
    const c = one.data as { weight: number; points: [number, number][]; missing: number | 'skip'; events?: string[]; days?: number; event?: string };
    const points = c.points as unknown as Points;
    components.push({ name, measure: measureOf(kind, c), weight: c.weight, points, missing: c.missing });
  }
  if (!parsed.success || problems.length) return { ok: false, problems: byPosition(problems) };
  const raw: Raw = parsed.data;
  if (!Object.keys(raw.components).length) problems.push(at(['components'], 'expected at least one component'));
  if (Object.keys(raw.components).length > 40) problems.push(at(['components'], 'at most 40 components'));

  const profiles: Partial<Record<Phase, Profile>> = {};
  const names = new Set(Object.keys(raw.components));
  for (const [phase, p] of Object.entries(raw.profiles ?? {}) as [Phase, NonNullable<NonNullable<Raw['profiles']>[Phase]>][]) {
    for (const key of Object.keys(p.weights ?? {})) {
      if (!names.has(key)) problems.push(at(['profiles', phase, 'weights', key], `no component named "${key}"${suggest(key, [...names], 'components')}`, true));
    }
    profiles[phase] = { weights: p.weights ?? {}, bands: (p.bands ?? raw.bands) as Bands };
  }
  if (problems.length) return { ok: false, problems: byPosition(problems) };

  // Every profile must count at least one component for every account, or a score would be undefined.
  const model: HealthModel = { components, bands: raw.bands as Bands, profiles };
  const check = (where: (string | number)[], weightOf: (c: Component) => number) => {
    if (!components.some((c) => weightOf(c) > 0 && c.missing !== 'skip'))
      problems.push(at(where, 'needs at least one component with a weight above 0 whose missing is not skip, so that every account gets a score'));
  };
  check(['components'], (c) => c.weight);
  for (const [phase, p] of Object.entries(profiles)) check(['profiles', phase], (c) => p.weights[c.name] ?? c.weight);
  return problems.length ? { ok: false, problems: byPosition(problems) } : { ok: true, model };
}

/** A file as shown in messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** Formats problems the way editors and CI understand: `file:line:col: path: message`. */
export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}

function measureOf(kind: MeasureKind, c: { events?: string[]; days?: number; event?: string }): Measure {
  switch (kind) {
    case 'days_since_last':
      return { kind, events: c.events! };
    case 'frequency_change':
    case 'feature_breadth':
      return { kind, events: c.events!, days: c.days! };
    case 'active_users':
      return c.event ? { kind, days: c.days!, event: c.event } : { kind, days: c.days! };
    case 'email_engagement':
    case 'nps':
      return { kind, days: c.days! };
    case 'open_handoffs':
      return { kind };
  }
}

type At = (path: (string | number)[], message: string, atKey?: boolean) => Problem;

function pushIssues(error: z.ZodError, prefix: (string | number)[], at: At, out: Problem[]): void {
  for (const issue of error.issues) {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys' && path.length === 1 && path[0] === 'profiles') {
      for (const key of issue.keys) out.push(at([...path, key], `"${key}" is not a lifecycle phase${suggest(key, [...PHASES], 'phases')}`, true));
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(at([...path, key], `unknown field "${key}"`, true));
    } else if (issue.code === 'invalid_key') {
      out.push(at(path, issue.issues[0]?.message ?? issue.message, true));
    } else {
      out.push(at(path, issue.message === 'Invalid input: expected number, received undefined' ? 'required' : issue.message));
    }
  }
}

/** Finds the closest node to a path (the value, or the key with atKey) and formats `file:line:col: path`. */
function locator(file: string, doc: Document, lines: LineCounter): At {
  return (path, message, atKey = false) => {
    let offset = 0;
    for (let n = path.length; n >= 0; n--) {
      // A missing field is reported at the key of the map that lacks it.
      const found = nodeAt(doc, path.slice(0, n), n < path.length || atKey);
      if (found !== undefined) {
        offset = found;
        break;
      }
    }
    return { path: `${position(file, lines, offset)}: ${formatPath(path)}`, message };
  };
}

function nodeAt(doc: Document, path: (string | number)[], key: boolean): number | undefined {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const part = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === part);
      if (!pair) return undefined;
      if (key && i === path.length - 1) return (pair.key as Node | null)?.range?.[0];
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      node = node.items[part];
    } else return undefined;
  }
  return (node as Node | null)?.range?.[0];
}

function position(file: string, lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  return `${file}:${line}:${col}`;
}

function suggest(word: string, options: string[], what: string): string {
  const close = options.filter((o) => distance(o, word) <= 2);
  return close.length ? ` (did you mean "${close[0]}"?)` : ` (${what}: ${options.join(', ')})`;
}

/** Problems in file order (line, then column), as an editor lists them. */
function byPosition(problems: Problem[]): Problem[] {
  const key = (p: Problem) => {
    const m = /:(\d+):(\d+): /.exec(p.path);
    return m ? Number(m[1]) * 10_000 + Number(m[2]) : 0;
  };
  return [...problems].sort((a, b) => key(a) - key(b));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

