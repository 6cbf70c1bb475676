import type { CompiledTemplate } from './compile';
import type { RenderSignals } from './render-context';

/**
 * What a message's stored render context must hold for its pinned template version to
 * re-render exactly: the context paths the version reads (every locale; body, layout,
 * partials, subject, preheader — `uses` of checkVariables) plus the fields kept with every
 * message (`KEPT`). `all`: the version reads the whole context (`{{#with this}}`, `@root`),
 * so the whole standard context is stored.
 */
export interface ContextNeeds {
  all: boolean;
  paths: string[];
}

/** The whole standard context (previews, test sends, templates that read `this`). */
export const ALL_CONTEXT: ContextNeeds = { all: true, paths: [] };

/**
 * Kept in every stored context whatever the template reads: who the message is for (the
 * console shows them), the recipient's locale and timezone (the renderer formats dates and
 * numbers with them), the journey and when the context was built.
 */
export const KEPT = ['contact.id', 'contact.externalId', 'contact.email', 'contact.locale', 'contact.timezone', 'account.id', 'account.externalId', 'journey', 'now'];

const cache = new WeakMap<CompiledTemplate, ContextNeeds>();

/** What the stored context of a message pinned to `compiled` must hold. */
export function contextNeeds(compiled: CompiledTemplate): ContextNeeds {
  let needs = cache.get(compiled);
  if (!needs) {
    const locales = [...compiled.locales.values()];
    needs = locales.some((l) => l.usesAll) ? ALL_CONTEXT : { all: false, paths: [...new Set([...KEPT, ...locales.flatMap((l) => l.uses)])].sort() };
    cache.set(compiled, needs);
  }
  return needs;
}

/** Paths as a tree; a path ends at a list (`signals.usedFeatures.length` keeps the whole list) or where a shorter path covers it. */
export type PathTree = Map<string, PathTree | true>;
/** A tree as arrays (what `pick` walks once per message: no Map iterator entries allocated per key). */
type Branch = { key: string; sub: Branch[] | true };

const trees = new WeakMap<ContextNeeds, Branch[]>();

export function pathTree(paths: readonly string[]): PathTree {
  const tree: PathTree = new Map();
  for (const path of [...paths].sort((a, b) => a.length - b.length)) {
    let node: PathTree = tree;
    const parts = path.split('.');
    for (let i = 0; i < parts.length; i++) {
      const at = node.get(parts[i]);
      if (at === true) break;
      if (i === parts.length - 1) node.set(parts[i], true);
      else {
        const next: PathTree = at ?? new Map();
        node.set(parts[i], next);
        node = next;
      }
    }
  }
  return tree;
}

/** `pathTree(needs.paths)` as arrays, in the Map's order, once per needs. */
function treeOf(needs: ContextNeeds): Branch[] {
  let compiled = trees.get(needs);
  if (compiled) return compiled;
  const toBranches = (t: PathTree): Branch[] => [...t].map(([key, sub]) => ({ key, sub: sub === true ? true : toBranches(sub) }));
  compiled = toBranches(pathTree(needs.paths));
  trees.set(needs, compiled);
  return compiled;
}

/**
 * The part of `context` that `needs` names: whole values at the paths' ends, objects on the
 * way. A missing value stays missing and a null or non-object on the way is kept as it is,
 * so every lookup the template makes finds what it would find in the whole context.
 */
export function projectContext<T extends object>(context: T, needs: ContextNeeds): Partial<T> {
  if (needs.all) return context;
  return pick(context as Record<string, unknown>, treeOf(needs)) as Partial<T>;
}

function pick(value: Record<string, unknown>, tree: Branch[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < tree.length; i++) {
    const { key, sub } = tree[i];
    if (!Object.hasOwn(value, key)) continue;
    const v = value[key];
    out[key] = sub === true || v === null || typeof v !== 'object' || Array.isArray(v) ? v : pick(v as Record<string, unknown>, sub);
  }
  return out;
}

export type SignalField = keyof RenderSignals;

/** The signal fields a context with `needs` holds (every field for the whole context). */
export function signalFields(needs: ContextNeeds, all: readonly SignalField[]): Set<SignalField> {
  if (needs.all || needs.paths.includes('signals')) return new Set(all);
  const known = new Set<string>(all);
  const out = new Set<SignalField>();
  for (const p of needs.paths) {
    if (!p.startsWith('signals.')) continue;
    const field = p.split('.')[1];
    if (known.has(field)) out.add(field as SignalField);
  }
  return out;
}
