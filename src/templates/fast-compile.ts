import Handlebars from 'handlebars';
// Internal module, pinned by handlebars ^4.7: the access rules Handlebars' own runtime applies.
import { createProtoAccessControl, isPrototypeConstructor, resultIsAllowed } from 'handlebars/dist/cjs/handlebars/internal/proto-access';
import { escapeHtml } from './escape';

/**
 * Compiles a parsed Handlebars template (hb.parse, so whitespace control is already applied)
 * into a tree of closures with the semantics of Handlebars 4.7's compiler and runtime, for
 * the constructs Touchline's templates use: content, comments, {{path}} / {{{path}}},
 * known helpers with params, hash and sub-expressions, and blocks with the built-in
 * if / unless / each / with and any other known helper (__partial).
 *
 * Why: Handlebars' generated code builds an options object with source locations for every
 * helper call, wraps every block program per call and routes every lookup through generic
 * runtime functions; for a 20 KB email that is most of the per-recipient cost. Here each
 * node knows at compile time what it is, so a render is direct calls and string joins.
 *
 * Anything outside that subset (`../` paths, block params, partials, decorators, lookup/log,
 * literal mustaches, …) throws `Unsupported`, and the caller uses Handlebars itself. The
 * equivalence with Handlebars is tested output-for-output (test/templates/fast-compile.test.ts).
 */
export class Unsupported extends Error {}

type Ctx = unknown;
type Frame = Record<string, unknown>;
/**
 * Renders a program (or a statement) in a context and data frame. Usually a string, but like
 * Handlebars' generated code a program is the JS `+` of its parts from the first one on, so
 * unescaped numbers at its start add up ({{{a}}}{{{b}}} with 1 and 2 gives 3) — kept, so
 * output stays identical to Handlebars'.
 */
type Emit = (ctx: Ctx, data: Frame) => unknown;
/** Evaluates an expression. */
type Value = (ctx: Ctx, data: Frame) => unknown;
type HelperFn = (this: unknown, ...args: unknown[]) => unknown;

/** Options shared by every compile: the helpers of the Handlebars instance, escaping on or off. */
interface Env {
  helpers: Record<string, HelperFn>;
  known: Record<string, boolean>;
  escape: boolean;
}

const hasOwn = Object.prototype.hasOwnProperty;
const accessControl = createProtoAccessControl({});
/** Handlebars' runtime passes this frozen object as `this` when the context is null. */
const NULL_CONTEXT = Object.seal({});
const noop: Emit = () => '';
/** The helpers built into Handlebars that the known-helpers list always includes. */
const HANDLEBARS_BUILTINS = ['helperMissing', 'blockHelperMissing', 'each', 'if', 'unless', 'with', 'log', 'lookup'];

/** Handlebars' container.lookupProperty: own properties, minus prototype back-references; the rest by its deny list. */
export function lookupProperty(parent: unknown, name: string): unknown {
  const result = (parent as Record<string, unknown>)[name];
  if (result == null) return result;
  // isPrototypeConstructor is only ever true for "constructor": skip the call for every other name.
  if (hasOwn.call(parent, name) && (name !== 'constructor' || !isPrototypeConstructor(parent, name, result))) return result;
  return resultIsAllowed(result, accessControl, name) ? result : undefined;
}

function isEmpty(value: unknown): boolean {
  return (!value && value !== 0) || (Array.isArray(value) && value.length === 0);
}

/** Handlebars' createFrame (its `extend`: own keys by assignment). Not a spread: a spread followed by new keys gets a fresh hidden class each time and turns every later store slow. */
function createFrame(data: Frame): Frame {
  const frame: Frame = {};
  for (const k in data) if (hasOwn.call(data, k)) frame[k] = data[k];
  frame._parent = data;
  return frame;
}

/**
 * `(context, data) => string`, or throws Unsupported. `knownHelpers` must be the list the
 * Handlebars compile would use (the built-ins are added as Handlebars adds them).
 */
export function fastCompile(
  hb: typeof Handlebars,
  ast: hbs.AST.Program,
  options: { knownHelpers: Record<string, boolean>; noEscape?: boolean },
): (context: object, data: Record<string, unknown>) => string {
  // Null-prototype, as Handlebars' compiler builds it: {{constructor}} is a path, not a helper.
  const known: Record<string, boolean> = Object.create(null);
  for (const b of HANDLEBARS_BUILTINS) known[b] = true;
  for (const k of Object.keys(options.knownHelpers)) known[k] = options.knownHelpers[k];
  const env: Env = { helpers: { ...(hb.helpers as Record<string, HelperFn>) }, known, escape: !options.noEscape };
  const main = program(env, ast);
  return (context, data) => {
    // As fastRenderer: @root is the context, as a top-level call sets it.
    data.root = context;
    return main(context, data) as string;
  };
}

function program(env: Env, node: hbs.AST.Program | undefined): Emit {
  if (!node) return noop;
  if (node.blockParams?.length) throw new Unsupported('block params');
  const parts: (string | Emit)[] = [];
  for (const s of node.body) {
    let part: string | Emit | undefined;
    switch (s.type) {
      case 'ContentStatement':
        part = (s as hbs.AST.ContentStatement).value;
        break;
      case 'CommentStatement':
        break;
      case 'MustacheStatement':
        part = mustache(env, s as hbs.AST.MustacheStatement);
        break;
      case 'BlockStatement':
        part = block(env, s as hbs.AST.BlockStatement);
        break;
      default:
        throw new Unsupported(s.type);
    }
    if (part === undefined || part === '') continue;
    // Adjacent static text is one string.
    const last = parts.length - 1;
    if (typeof part === 'string' && typeof parts[last] === 'string') parts[last] = (parts[last] as string) + part;
    else parts.push(part);
  }
  if (!parts.length) return noop;
  if (parts.length === 1) {
    const only = parts[0];
    return typeof only === 'string' ? () => only : only;
  }
  return concatenation(parts);
}

/**
 * `(ctx, data) => p0 + p1(ctx, data) + …`: one generated function per program, so each part
 * is called from its own site (a shared loop calling every part is megamorphic and slow).
 * Only parameter names p0…pN are generated; the parts, static text included, are passed in as
 * values, so no template text is ever part of the generated code.
 */
function concatenation(parts: (string | Emit)[]): Emit {
  const names = parts.map((_, i) => `p${i}`);
  const body = parts.map((p, i) => (typeof p === 'string' ? names[i] : `${names[i]}(c, d)`)).join(' + ');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function(...names, `"use strict"; return function program(c, d) { return ${body}; };`) as (...parts: (string | Emit)[]) => Emit;
  return make(...parts);
}

type Kind = 'helper' | 'simple';

/** Handlebars' classifySexpr under knownHelpersOnly ('ambiguous' cannot occur there). */
function classify(env: Env, node: { path: hbs.AST.Expression; params: hbs.AST.Expression[]; hash?: hbs.AST.Hash }, isSub: boolean): Kind {
  if (node.path.type !== 'PathExpression') throw new Unsupported('literal path');
  const path = node.path as hbs.AST.PathExpression;
  const simple = path.parts.length === 1 && !/^\.|this\b/.test(path.original) && !path.depth;
  const isHelper = isSub || !!(node.params.length || node.hash);
  if (isHelper) return 'helper';
  return simple && env.known[path.parts[0]] ? 'helper' : 'simple';
}

function helperOf(env: Env, path: hbs.AST.PathExpression): { name: string; fn: HelperFn } {
  const name = path.parts[0];
  const simple = path.parts.length === 1 && !/^\.|this\b/.test(path.original) && !path.depth && !path.data;
  if (!simple || !env.known[name]) throw new Unsupported(`helper ${path.original}`);
  if (['helperMissing', 'blockHelperMissing', 'log', 'lookup'].includes(name)) throw new Unsupported(`helper ${name}`);
  const fn = env.helpers[name];
  if (typeof fn !== 'function') throw new Unsupported(`helper ${name} not registered`);
  return { name, fn };
}

function mustache(env: Env, m: hbs.AST.MustacheStatement): Emit {
  const escape = env.escape && m.escaped;
  if (classify(env, m, false) === 'simple') {
    const get = pathValue(m.path as hbs.AST.PathExpression);
    // container.lambda: a function in the context is called with the context.
    const value: Value = (ctx, data) => {
      const v = get(ctx, data);
      return typeof v === 'function' ? (v as HelperFn).call(ctx) : v;
    };
    return escape ? (ctx, data) => escapeHtml(value(ctx, data)) : (ctx, data) => orEmpty(value(ctx, data));
  }
  const call = helperCall(env, m.path as hbs.AST.PathExpression, m.params, m.hash);
  return escape ? (ctx, data) => escapeHtml(call(ctx, data)) : (ctx, data) => orEmpty(call(ctx, data));
}

function orEmpty(v: unknown): string {
  return v != null ? (v as string) : '';
}

function block(env: Env, b: hbs.AST.BlockStatement): Emit {
  if (classify(env, b, false) !== 'helper') throw new Unsupported('block without helper');
  const { name } = helperOf(env, b.path as hbs.AST.PathExpression);
  const fn = program(env, b.program);
  const inverse = program(env, b.inverse);
  if (name === 'if' || name === 'unless') {
    if (b.params.length !== 1) throw new Unsupported(`#${name} arity`);
    const cond = value(env, b.params[0]);
    const hash = hashOf(env, b.hash);
    const [yes, no] = name === 'if' ? [fn, inverse] : [inverse, fn];
    return (ctx, data) => {
      const self = ctx != null ? ctx : NULL_CONTEXT;
      let c = cond(ctx, data);
      if (typeof c === 'function') c = (c as HelperFn).call(self);
      const h = hash ? hash(ctx, data) : undefined;
      return (!h?.includeZero && !c) || isEmpty(c) ? no(self, data) : yes(self, data);
    };
  }
  if (name === 'with') {
    if (b.params.length !== 1) throw new Unsupported('#with arity');
    const subject = value(env, b.params[0]);
    const hash = hashOf(env, b.hash);
    return (ctx, data) => {
      const self = ctx != null ? ctx : NULL_CONTEXT;
      let c = subject(ctx, data);
      if (hash) hash(ctx, data);
      if (typeof c === 'function') c = (c as HelperFn).call(self);
      return !isEmpty(c) ? fn(c, data) : inverse(self, data);
    };
  }
  if (name === 'each') {
    if (b.params.length !== 1) throw new Unsupported('#each arity');
    const list = value(env, b.params[0]);
    const hash = hashOf(env, b.hash);
    return (ctx, data) => {
      const self = ctx != null ? ctx : NULL_CONTEXT;
      let c = list(ctx, data);
      if (hash) hash(ctx, data);
      if (typeof c === 'function') c = (c as HelperFn).call(self);
      const frame = createFrame(data);
      let out = '';
      let i = 0;
      if (c && typeof c === 'object') {
        if (Array.isArray(c)) {
          // The common case, written out: no closure per call.
          for (const j = c.length; i < j; i++) {
            if (!(i in c)) continue;
            frame.key = i;
            frame.index = i;
            frame.first = i === 0;
            frame.last = i === c.length - 1;
            out += fn(c[i], frame);
          }
        } else {
          const step = (key: unknown, index: number, last: boolean, item: unknown) => {
            frame.key = key;
            frame.index = index;
            frame.first = index === 0;
            frame.last = last;
            out += fn(item, frame);
          };
          if (typeof (c as Iterable<unknown>)[Symbol.iterator] === 'function') {
            // Rare (Map/Set in a context): the same walk as Handlebars' each.
            const it = (c as Iterable<unknown>)[Symbol.iterator]();
            let cur = it.next();
            while (!cur.done) {
              const next = it.next();
              step(i, i, !!next.done, cur.value);
              cur = next;
              i++;
            }
          } else {
            const keys = Object.keys(c);
            for (; i < keys.length; i++) step(keys[i], i, i === keys.length - 1, (c as Record<string, unknown>)[keys[i]]);
          }
        }
      }
      return i === 0 ? inverse(self, data) : out;
    };
  }
  // Any other known block helper (e.g. __partial): called as Handlebars calls it.
  const call = helperCall(env, b.path as hbs.AST.PathExpression, b.params, b.hash, fn, inverse);
  return (ctx, data) => orEmpty(call(ctx, data));
}

/** A known helper call: params, then the options object Handlebars builds (name, hash, data, fn, inverse). */
function helperCall(env: Env, path: hbs.AST.PathExpression, paramNodes: hbs.AST.Expression[], hashNode: hbs.AST.Hash | undefined, fn?: Emit, inverse?: Emit): Value {
  const { name, fn: helper } = helperOf(env, path);
  if (['if', 'unless', 'with', 'each'].includes(name) && !fn) throw new Unsupported(`${name} as a value`);
  const params = paramNodes.map((p) => value(env, p));
  const hash = hashOf(env, hashNode);
  const n = params.length;
  // The options object Handlebars builds per call, built once per call site and refilled per
  // call: no allocation per helper call. Safe because a call site cannot be re-entered while
  // its helper runs (templates have no recursion: partials are inlined) and Touchline's
  // helpers keep nothing from `options` after they return.
  const opts: { name: string; hash: Record<string, unknown>; data: Frame; lookupProperty: typeof lookupProperty; fn?: unknown; inverse?: unknown } = { name, hash: {}, data: {}, lookupProperty };
  if (fn) {
    // options.fn(context, {data}) as Handlebars' program wrapper: the caller's frame unless one is passed.
    const otherwise = inverse ?? noop;
    opts.fn = (context: unknown, o?: { data?: Frame }) => fn(context, (o && o.data) || opts.data);
    opts.inverse = (context: unknown, o?: { data?: Frame }) => otherwise(context, (o && o.data) || opts.data);
  }
  const emptyHash: Record<string, unknown> = {};
  const optionsFor = (ctx: Ctx, data: Frame) => {
    opts.hash = hash ? hash(ctx, data) : emptyHash;
    opts.data = data;
    return opts;
  };
  // The common arities without an arguments array.
  const [p0, p1] = params;
  if (n === 0) return (ctx, data) => helper.call(ctx != null ? ctx : NULL_CONTEXT, optionsFor(ctx, data));
  if (n === 1) return (ctx, data) => helper.call(ctx != null ? ctx : NULL_CONTEXT, p0(ctx, data), optionsFor(ctx, data));
  if (n === 2) return (ctx, data) => helper.call(ctx != null ? ctx : NULL_CONTEXT, p0(ctx, data), p1(ctx, data), optionsFor(ctx, data));
  return (ctx, data) => {
    const args: unknown[] = new Array(n + 1);
    for (let i = 0; i < n; i++) args[i] = params[i](ctx, data);
    args[n] = optionsFor(ctx, data);
    return helper.apply(ctx != null ? ctx : NULL_CONTEXT, args);
  };
}

function hashOf(env: Env, hash: hbs.AST.Hash | undefined): ((ctx: Ctx, data: Frame) => Record<string, unknown>) | undefined {
  if (!hash?.pairs.length) return undefined;
  const pairs = hash.pairs.map((p) => [p.key, value(env, p.value)] as const);
  return (ctx, data) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of pairs) out[k] = v(ctx, data);
    return out;
  };
}

function value(env: Env, e: hbs.AST.Expression): Value {
  switch (e.type) {
    case 'StringLiteral':
    case 'NumberLiteral':
    case 'BooleanLiteral': {
      const v = (e as hbs.AST.StringLiteral).value;
      return () => v;
    }
    case 'UndefinedLiteral':
      return () => undefined;
    case 'NullLiteral':
      return () => null;
    case 'PathExpression':
      return pathValue(e as hbs.AST.PathExpression);
    case 'SubExpression': {
      const s = e as hbs.AST.SubExpression;
      return helperCall(env, s.path as hbs.AST.PathExpression, s.params, s.hash);
    }
    default:
      throw new Unsupported(e.type);
  }
}

/** Context paths chain with `!= null`, data paths with `&&`, each step through lookupProperty (Handlebars' resolvePath). */
function pathValue(path: hbs.AST.PathExpression): Value {
  if (path.depth) throw new Unsupported('../ path');
  const parts = path.parts.slice();
  for (const p of parts) if (typeof p !== 'string') throw new Unsupported('path part');
  if (path.data) {
    return (_ctx, data) => {
      let v: unknown = data;
      for (let i = 0; i < parts.length; i++) v = v && lookupProperty(v, parts[i]);
      return v;
    };
  }
  if (!parts.length) return (ctx) => ctx;
  if (parts.length === 1) {
    const [a] = parts;
    return (ctx) => (ctx != null ? lookupProperty(ctx, a) : ctx);
  }
  if (parts.length === 2) {
    const [a, b] = parts;
    return (ctx) => {
      const v = ctx != null ? lookupProperty(ctx, a) : ctx;
      return v != null ? lookupProperty(v, b) : v;
    };
  }
  return (ctx) => {
    let v = ctx;
    for (let i = 0; i < parts.length; i++) v = v != null ? lookupProperty(v, parts[i]) : v;
    return v;
  };
}
