import type { z } from 'zod';
import { didYouMean } from '../common/suggest';
import { YamlSource } from './yaml-source';

/**
 * Maps zod issues to positioned problems with readable messages: unknown keys with
 * "did you mean", missing fields at their parent, unions reduced to the branch that
 * matched best.
 */
export function reportZodIssues(src: YamlSource, issues: z.core.$ZodIssue[], prefix: PropertyKey[], value: unknown, knownKeys: string[]): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path] as (string | number)[];
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) src.problem([...path, k], `unknown field "${k}"${didYouMean(k, knownKeys)}`, { key: true });
      continue;
    }
    if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.path.length && valueAt(value, issue.path) === undefined) {
      const key = path[path.length - 1];
      src.problem(path.slice(0, -1), `missing "${String(key)}"`);
      continue;
    }
    if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length) {
      // A branch that got past the type check tells more than "invalid input".
      const best = issue.errors
        .filter((branch) => branch.length && !branch.every((e) => e.code === 'invalid_type' && e.path.length === 0))
        .sort((a, b) => a.length - b.length)[0];
      if (best) {
        reportZodIssues(src, best, path, valueAt(value, issue.path), knownKeys);
        continue;
      }
    }
    src.problem(path, tidy(issue));
  }
}

function tidy(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value' && 'values' in issue) return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
  return issue.message.replace(/^Invalid input: /, '');
}

export function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg as string];
  }
  return cur;
}
