import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, Scalar } from 'yaml';
import type { FeatureInfo } from './helpers';

/**
 * Template files as data: a map of relative path (posix) → text. Compilation works on a
 * SourceSet, so a version stored in the database re-renders exactly like the files did.
 *
 *   templates/layouts/<layout>[.<locale>].mjml   whole MJML documents with a {{{body}}} line
 *   templates/partials/<name>[.<locale>].mjml     MJML or HTML fragments, {{> name key=value}}
 *   templates/<name>/<locale>.mjml                front matter + MJML body sections
 *   templates/features.yaml                       display names of key features, per locale
 */
export type SourceSet = Map<string, string>;

/** A problem located in a source file (relative path, 1-based line and column). */
export interface SourceProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export const FEATURES_FILE = 'features.yaml';

export function readSourceDir(dir: string): SourceSet {
  const set: SourceSet = new Map();
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    for (const entry of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (/\.(mjml|ya?ml)$/.test(entry.name)) set.set(child, fs.readFileSync(path.join(dir, child), 'utf8'));
    }
  };
  if (fs.existsSync(dir)) walk('');
  return set;
}

/** Template names and their locales: `<name>/<locale>.mjml` outside layouts/ and partials/. */
export function templateLocales(set: SourceSet): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const rel of set.keys()) {
    const m = /^([a-z0-9][a-z0-9_-]*)\/([a-z]{2}(?:-[A-Za-z0-9]+)?)\.mjml$/.exec(rel);
    if (!m || m[1] === 'layouts' || m[1] === 'partials') continue;
    out.set(m[1], [...(out.get(m[1]) ?? []), m[2]].sort());
  }
  return out;
}

export const CATEGORIES = ['marketing', 'operational'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface FrontMatter {
  subject: string;
  subjectLine: number;
  preheader: string;
  preheaderLine: number;
  category: Category;
  layout: string;
  layoutLine: number;
  variables: string[];
  variableLines: number[];
  description?: string;
}

export interface TemplateFile {
  fm: FrontMatter;
  body: string;
  /** Line of the file where the body starts. */
  bodyLine: number;
}

const FM_KEYS = new Set(['subject', 'preheader', 'category', 'layout', 'variables', 'description']);

/** Splits and validates front matter (`---` YAML `---`) from the MJML body. */
export function parseTemplateFile(file: string, text: string): { ok: true; value: TemplateFile } | { ok: false; problems: SourceProblem[] } {
  const problems: SourceProblem[] = [];
  const at = (line: number, message: string, col = 1) => problems.push({ file, line, col, message });
  const lines = text.split('\n');
  if (lines[0].trim() !== '---') {
    at(1, 'missing front matter: the file must start with a "---" line, then subject, category, … and a closing "---"');
    return { ok: false, problems };
  }
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
  if (end < 0) {
    at(1, 'front matter is not closed: add a "---" line after it');
    return { ok: false, problems };
  }
  const counter = new LineCounter();
  const doc = parseDocument(lines.slice(1, end).join('\n'), { lineCounter: counter, prettyErrors: false });
  const lineOf = (offset: number | undefined) => counter.linePos(offset ?? 0).line + 1;
  for (const err of doc.errors) {
    const line = lineOf(err.pos[0]);
    const hint = /^\s*[\w-]+:\s*"[^"]*"[^"]*"/.test(lines[line - 1] ?? '') ? ' (a value in double quotes contains a double quote: use single quotes around it)' : '';
    at(line, `front matter YAML: ${err.message.split('\n')[0]}${hint}`);
  }
  if (problems.length) return { ok: false, problems };
  const root = doc.contents;
  if (!isMap(root)) {
    at(2, 'front matter must be a mapping (subject: …, category: …)');
    return { ok: false, problems };
  }
  const get = (key: string) => {
    const pair = root.items.find((p) => (p.key as Scalar)?.value === key);
    return { node: pair?.value as Scalar | undefined, line: lineOf((pair?.value as Scalar | undefined)?.range?.[0] ?? (pair?.key as Scalar | undefined)?.range?.[0]) };
  };
  for (const p of root.items) {
    const key = String((p.key as Scalar)?.value);
    if (!FM_KEYS.has(key)) at(lineOf((p.key as Scalar)?.range?.[0]), `unknown front matter key "${key}" (expected subject, preheader, category, layout, variables, description)`);
  }
  const text_ = (key: string, required: boolean) => {
    const { node, line } = get(key);
    if (node === undefined || node.value === null || node.value === undefined || node.value === '') {
      if (required) at(2, `front matter: "${key}" is required`);
      return { value: '', line };
    }
    if (typeof node.value !== 'string') at(line, `front matter: "${key}" must be text`);
    return { value: String(node.value), line };
  };
  const subject = text_('subject', true);
  const preheader = text_('preheader', false);
  const category = text_('category', true);
  if (category.value && !(CATEGORIES as readonly string[]).includes(category.value)) {
    at(category.line, `front matter: category must be "marketing" or "operational" (got "${category.value}")`);
  }
  const layout = text_('layout', false);
  const description = text_('description', false);
  const variables: string[] = [];
  const variableLines: number[] = [];
  const vars = get('variables');
  if (vars.node !== undefined && vars.node !== null) {
    if (!isSeq(vars.node)) at(vars.line, 'front matter: "variables" must be a list of context paths such as contact.name');
    else {
      for (const item of vars.node.items as Scalar[]) {
        if (typeof item?.value !== 'string') at(lineOf(item?.range?.[0]), 'front matter: each variable must be a path such as contact.name');
        else {
          variables.push(item.value);
          variableLines.push(lineOf(item.range?.[0]));
        }
      }
    }
  }
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    value: {
      fm: {
        subject: subject.value,
        subjectLine: subject.line,
        preheader: preheader.value,
        preheaderLine: preheader.line,
        category: category.value as Category,
        layout: layout.value || 'default',
        layoutLine: layout.line,
        variables,
        variableLines,
        ...(description.value ? { description: description.value } : {}),
      },
      body: lines.slice(end + 1).join('\n'),
      bodyLine: end + 2,
    },
  };
}

/** features.yaml: `event: {url?, ja: {name, description?}, en: {…}}`. */
export function parseFeatures(text: string | undefined, file = FEATURES_FILE): { features: Record<string, FeatureInfo>; problems: SourceProblem[] } {
  const features: Record<string, FeatureInfo> = {};
  const problems: SourceProblem[] = [];
  if (text === undefined) return { features, problems };
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const pos = (offset: number | undefined) => counter.linePos(offset ?? 0);
  for (const err of doc.errors) {
    const p = pos(err.pos[0]);
    problems.push({ file, line: p.line, col: p.col, message: `YAML syntax: ${err.message.split('\n')[0]}` });
  }
  if (problems.length || doc.contents === null) return { features, problems };
  const json = doc.toJSON() as unknown;
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    problems.push({ file, line: 1, col: 1, message: 'expected a mapping of feature (event name) → {url, ja: {name, description}, en: {…}}' });
    return { features, problems };
  }
  const root = doc.contents as unknown as { items: { key: Scalar }[] };
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    const keyNode = root.items.find((p) => p.key?.value === key)?.key;
    const p = pos(keyNode?.range?.[0]);
    const info: FeatureInfo = { names: {} };
    if (!value || typeof value !== 'object') {
      problems.push({ file, line: p.line, col: p.col, message: `${key}: expected {url, ja: {name, description}, …}` });
      continue;
    }
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'url') info.url = String(v);
      else if (v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string') {
        const d = (v as { description?: unknown }).description;
        info.names[k] = { name: (v as { name: string }).name, ...(typeof d === 'string' ? { description: d } : {}) };
      } else problems.push({ file, line: p.line, col: p.col, message: `${key}.${k}: expected {name, description} for locale "${k}" (or url)` });
    }
    features[key] = info;
  }
  return { features, problems };
}
