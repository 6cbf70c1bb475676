import * as fs from 'node:fs';
import * as path from 'node:path';
import { Catalog } from './condition-yaml';
import { checkSegmentEvents, compileJourney, compileSegment } from './compile-journey';
import { Journey, Segment } from './journey';
import { SourceProblem } from './yaml-source';
import { YamlSource } from './yaml-source';

/**
 * Reads journey files (`<dir>/<phase>/*.yaml`) and segments (`<dir>/segments/*.yaml`),
 * validates them all and reports every problem at once. An invalid journey is left out;
 * the valid ones are returned (so one bad file never stops the others).
 */
export interface LoadResult {
  journeys: Journey[];
  segments: Segment[];
  problems: SourceProblem[];
  /** Files that were read, with whether they were valid. */
  files: { file: string; valid: boolean }[];
}

export interface LoadOptions {
  /** Only these journey files (or directories); segments are always read from `dir`. */
  paths?: string[];
  templates: ReadonlySet<string> | null;
  events: ReadonlySet<string> | null;
  /** Shown in messages instead of absolute paths (default: process cwd). */
  relativeTo?: string;
}

export function loadJourneyFiles(dir: string, opts: LoadOptions): LoadResult {
  const rel = (f: string) => path.relative(opts.relativeTo ?? process.cwd(), f) || f;
  const problems: SourceProblem[] = [];
  const files: LoadResult['files'] = [];
  const segments = new Map<string, Segment>();

  // Segments may use other segments: compile them in dependency order, refusing cycles.
  const sources = yamlFiles(path.join(dir, 'segments')).map((file) => ({ file, src: new YamlSource(rel(file), fs.readFileSync(file, 'utf8')) }));
  const byName = new Map<string, YamlSource>();
  for (const { src } of sources) {
    const name = (src.toJS() as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && !byName.has(name)) byName.set(name, src);
  }
  const state = new Map<YamlSource, 'busy' | 'done'>();
  const compile = (src: YamlSource, chain: string[]): void => {
    if (state.get(src) === 'done') return;
    if (state.get(src) === 'busy') {
      src.problem(['condition'], `segments use each other in a cycle: ${chain.join(' → ')}`);
      return;
    }
    state.set(src, 'busy');
    for (const ref of segmentRefs((src.toJS() as { condition?: unknown } | null)?.condition)) {
      const dep = byName.get(ref);
      if (dep) compile(dep, [...chain, ref]);
    }
    const seg = src.ok ? compileSegment(src, segments) : undefined;
    if (seg && segments.has(seg.name)) src.problem(['name'], `duplicate segment name "${seg.name}" (also ${segments.get(seg.name)!.source})`);
    if (seg && src.ok) {
      checkSegmentEvents(src, { templates: opts.templates, events: opts.events, segments });
      if (path.basename(src.file).replace(/\.ya?ml$/, '') !== seg.name) src.problem(['name'], `segment "${seg.name}" must be in segments/${seg.name}.yaml`);
    }
    if (seg && src.ok) segments.set(seg.name, seg);
    state.set(src, 'done');
  };
  for (const { src } of sources) {
    const name = (src.toJS() as { name?: unknown } | null)?.name;
    compile(src, [String(name)]);
    problems.push(...src.problems);
    files.push({ file: src.file, valid: src.ok });
  }

  const catalog: Catalog = { templates: opts.templates, events: opts.events, segments };
  const journeyFiles = opts.paths?.length ? opts.paths.flatMap((p) => (fs.statSync(p).isDirectory() ? journeyFilesIn(p) : [p])) : journeyFilesIn(dir);
  const journeys: Journey[] = [];
  const keys = new Map<string, string>();
  for (const file of journeyFiles) {
    if (path.basename(path.dirname(path.resolve(file))) === 'segments') continue;
    const src = new YamlSource(rel(file), fs.readFileSync(file, 'utf8'));
    const j = compileJourney(src, catalog);
    if (j && keys.has(j.key)) src.problem(['key'], `duplicate journey key "${j.key}" (also ${keys.get(j.key)})`);
    if (j && src.ok) {
      keys.set(j.key, src.file);
      journeys.push(j);
    }
    problems.push(...src.problems);
    files.push({ file: src.file, valid: src.ok });
  }
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
  return { journeys, segments: [...segments.values()], problems, files };
}

function yamlFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Journey files: YAML files in each sub-directory except segments/ (and any at the top). */
function journeyFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out = yamlFiles(dir);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory() && entry.name !== 'segments' && !entry.name.startsWith('.')) out.push(...yamlFiles(path.join(dir, entry.name)));
  }
  return out;
}

/** Template names present in a templates directory: `<name>/<locale>.mjml` outside layouts/ and partials/. */
export function templateNamesIn(dir: string): Set<string> {
  const out = new Set<string>();
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'layouts' || entry.name === 'partials' || !/^[a-z0-9][a-z0-9_-]*$/.test(entry.name)) continue;
    if (fs.readdirSync(path.join(dir, entry.name)).some((f) => /^[a-z]{2}(-[A-Za-z0-9]+)?\.mjml$/.test(f))) out.add(entry.name);
  }
  return out;
}

/** Names of the segments a raw (YAML) condition refers to. */
function segmentRefs(c: unknown): string[] {
  if (Array.isArray(c)) return c.flatMap(segmentRefs);
  if (c && typeof c === 'object') {
    const o = c as Record<string, unknown>;
    if (typeof o.segment === 'string') return [o.segment];
    return Object.values(o).flatMap(segmentRefs);
  }
  return [];
}
