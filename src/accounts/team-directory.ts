import * as fs from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, Scalar, YAMLMap } from 'yaml';
import type { Problem } from '../common/errors';

/**
 * The CSM directory (`team.yaml` at the repo root): who owns accounts (`accounts.csm_owner`
 * holds the id), for the signature partial in email and the hand-off webhook.
 *
 *   csms:
 *     - id: csm-tanaka
 *       name: 田中 美咲
 *       email: misaki.tanaka@example.com
 *       title: カスタマーサクセスマネージャー   # optional
 *       webhook: https://hooks.example.com/…   # optional, hand-off notifications
 */
export interface Csm {
  id: string;
  name: string;
  email: string;
  title?: string;
  webhook?: string;
}

export interface TeamDirectory {
  csms: Map<string, Csm>;
}

export type TeamLoad = { ok: true; team: TeamDirectory } | { ok: false; problems: Problem[] };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ID = /^[A-Za-z0-9_.-]+$/;
const FIELDS = new Set(['id', 'name', 'email', 'title', 'webhook']);

/** Parses and validates the directory; every problem carries `file:line:col`. Pure: no file access. */
export function parseTeamDirectory(text: string, file: string): TeamLoad {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const p = lines.linePos(offset ?? 0);
    return `${file}:${p.line}:${p.col}`;
  };
  const problems: Problem[] = [];
  for (const err of doc.errors) problems.push({ path: at(err.pos[0]), message: `YAML syntax: ${err.message.split('\n')[0]}` });
  if (problems.length) return { ok: false, problems };
  const csms = new Map<string, Csm>();
  const root = doc.contents;
  if (root === null || root === undefined) return { ok: true, team: { csms } };
  if (!isMap(root)) return { ok: false, problems: [{ path: at(0), message: 'expected a mapping with a "csms" list' }] };
  for (const item of root.items) {
    const key = String((item.key as Scalar)?.value);
    if (key !== 'csms') problems.push({ path: at((item.key as Scalar)?.range?.[0]), message: `unknown key "${key}" (expected "csms")` });
  }
  const list = root.get('csms', true);
  if (list === undefined) return problems.length ? { ok: false, problems } : { ok: true, team: { csms } };
  if (!isSeq(list)) return { ok: false, problems: [...problems, { path: at((list as Scalar).range?.[0]), message: 'csms: expected a list' }] };
  list.items.forEach((node, i) => {
    const where = `csms[${i}]`;
    if (!isMap(node)) {
      problems.push({ path: at((node as Scalar)?.range?.[0]), message: `${where}: expected a mapping with id, name, email` });
      return;
    }
    const map = node as YAMLMap;
    const field = (name: string) => {
      const pair = map.items.find((p) => (p.key as Scalar)?.value === name);
      const value = pair?.value as Scalar | undefined;
      return { value: value?.value, pos: value?.range?.[0] ?? map.range?.[0] };
    };
    for (const p of map.items) {
      const k = String((p.key as Scalar)?.value);
      if (!FIELDS.has(k)) problems.push({ path: at((p.key as Scalar)?.range?.[0]), message: `${where}: unknown field "${k}" (expected id, name, email, title, webhook)` });
    }
    const str = (name: string, required: boolean, check?: (v: string) => string | undefined): string | undefined => {
      const f = field(name);
      if (f.value === undefined || f.value === null || f.value === '') {
        if (required) problems.push({ path: at(map.range?.[0]), message: `${where}.${name}: required` });
        return undefined;
      }
      if (typeof f.value !== 'string') {
        problems.push({ path: at(f.pos), message: `${where}.${name}: expected text` });
        return undefined;
      }
      const bad = check?.(f.value);
      if (bad) {
        problems.push({ path: at(f.pos), message: `${where}.${name}: ${bad}` });
        return undefined;
      }
      return f.value;
    };
    const id = str('id', true, (v) => (ID.test(v) ? undefined : `"${v}" may hold only letters, digits, "_", "." and "-"`));
    const name = str('name', true);
    const email = str('email', true, (v) => (EMAIL.test(v) ? undefined : `"${v}" is not an email address`));
    const title = str('title', false);
    const webhook = str('webhook', false, (v) => {
      try {
        return /^https?:$/.test(new URL(v).protocol) ? undefined : 'expected an http(s) URL';
      } catch {
        return 'expected an http(s) URL';
      }
    });
    if (id && csms.has(id)) problems.push({ path: at(field('id').pos), message: `${where}.id: "${id}" is listed twice` });
    else if (id && name && email) csms.set(id, { id, name, email, ...(title ? { title } : {}), ...(webhook ? { webhook } : {}) });
  });
  return problems.length ? { ok: false, problems } : { ok: true, team: { csms } };
}

/** Reads the directory file; a missing file is an empty directory (no account has a CSM). */
export function loadTeamDirectory(file: string, display = file, read: (f: string) => string | undefined = readIfExists): TeamLoad {
  const text = read(file);
  if (text === undefined) return { ok: true, team: { csms: new Map() } };
  return parseTeamDirectory(text, display);
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
