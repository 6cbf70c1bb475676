import { BUILTIN_BLOCKS, KNOWN_HELPERS } from './helpers';
import { CONTEXT_SHAPE, Shape } from './render-context';

type Node = hbs.AST.Node;
type Path = hbs.AST.PathExpression;
type Expr = hbs.AST.Expression;

/**
 * Strict checking of a parsed template against the render context: every variable must
 * exist in CONTEXT_SHAPE (following each/with scopes, block params and partial arguments),
 * every helper must be known, blocks must be helpers. Reported with the AST's line/column.
 */
export interface VariableProblem {
  line: number;
  /** 1-based. */
  col: number;
  message: string;
}

interface Scope {
  shape: Shape;
  params: Map<string, Shape>;
  /**
   * Set when a name looked up in this scope is a path of the render context itself: the
   * template's top level, and a partial called there (the caller's context plus its hash
   * arguments, whose names are `hashKeys`). Unset inside each/with (their items are read
   * through the path the block was given, which is recorded whole).
   */
  root?: { hashKeys: Set<string> };
}

const ANY: Shape = { kind: 'any' };
const SCALAR: Shape = { kind: 'scalar' };
const DATA_VARS = new Set(['index', 'key', 'first', 'last', 'preheader', 'tl', 'root']);

/**
 * `uses`: the context paths the template reads (a path covers everything under it), also
 * inside partials; `usesAll`: it reads the whole context at once (`this` or `@root` at the top
 * level, e.g. `{{#with this}}`), so no subset of the context renders it the same.
 */
export function checkVariables(ast: hbs.AST.Program, root: Shape = CONTEXT_SHAPE): { problems: VariableProblem[]; uses: Set<string>; usesAll: boolean } {
  const problems: VariableProblem[] = [];
  const uses = new Set<string>();
  let usesAll = false;
  const report = (node: Node, message: string) =>
    problems.push({ line: node.loc?.start.line ?? 1, col: (node.loc?.start.column ?? 0) + 1, message });

  const resolveParts = (shape: Shape, parts: string[], shown: string, node: Node): Shape | undefined => {
    let s = shape;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (s.kind === 'any') return ANY;
      if (s.kind === 'array') {
        if (part === 'length') s = SCALAR;
        else if (/^\d+$/.test(part)) s = s.of;
        else {
          report(node, `unknown variable "${shown}": ${parts.slice(0, i).join('.') || 'this'} is a list (use {{#each}} or .length)`);
          return undefined;
        }
        continue;
      }
      if (s.kind === 'scalar') {
        report(node, `unknown variable "${shown}": ${parts.slice(0, i).join('.') || 'this'} is a value, it has no field "${part}"`);
        return undefined;
      }
      const next = Object.hasOwn(s.fields, part) ? s.fields[part] : undefined;
      if (!next) {
        const owner = parts.slice(0, i).join('.');
        const fields = Object.keys(s.fields);
        const near = closest(part, fields);
        report(node, `unknown variable "${shown}": ${owner ? `${owner} has no field "${part}"` : `the render context has no "${part}"`}${near ? ` (did you mean "${owner ? owner + '.' : ''}${near}"?)` : ` (available: ${fields.join(', ')})`}`);
        return undefined;
      }
      s = next;
    }
    return s;
  };

  const resolve = (p: Path, scopes: Scope[]): Shape | undefined => {
    if (p.data) {
      const [head, ...rest] = p.parts;
      if (head === 'root') {
        const s = resolveParts(root, rest, p.original, p);
        if (s && rest.length) uses.add(rest.join('.'));
        else if (s) usesAll = true;
        return s;
      }
      if (!DATA_VARS.has(head)) {
        report(p, `unknown data variable "@${head}" (available: @index, @key, @first, @last, @root, @preheader)`);
        return undefined;
      }
      return head === 'tl' ? ANY : SCALAR;
    }
    const index = scopes.length - 1 - p.depth;
    if (index < 0) {
      report(p, `"${p.original}" goes above the top of the template`);
      return undefined;
    }
    const scope = scopes[index];
    if (!p.parts.length) {
      // this, ../: at the top level (or in a partial there) that is the whole context.
      if (scope.root) usesAll = true;
      return scope.shape;
    }
    if (p.depth === 0) {
      for (let i = scopes.length - 1; i >= 0; i--) {
        const param = scopes[i].params.get(p.parts[0]);
        if (param) return resolveParts(param, p.parts.slice(1), p.original, p);
      }
    }
    const s = resolveParts(scope.shape, p.parts, p.original, p);
    if (s && scope.root && !scope.root.hashKeys.has(p.parts[0])) uses.add(p.parts.join('.'));
    return s;
  };

  const expr = (e: Expr, scopes: Scope[]): Shape => {
    switch (e.type) {
      case 'PathExpression':
        return resolve(e as Path, scopes) ?? ANY;
      case 'SubExpression': {
        const sub = e as hbs.AST.SubExpression;
        call(sub.path as Path, sub.params, sub.hash, scopes, sub);
        return ANY;
      }
      default:
        return SCALAR;
    }
  };

  const helperName = (p: Expr): string | undefined => {
    if (p.type !== 'PathExpression') return undefined;
    const path = p as Path;
    return !path.data && path.depth === 0 && path.parts.length === 1 ? path.parts[0] : undefined;
  };

  const call = (path: Path, params: Expr[], hash: hbs.AST.Hash | undefined, scopes: Scope[], node: Node) => {
    const name = helperName(path);
    if (!name || !(KNOWN_HELPERS[name] || BUILTIN_BLOCKS.includes(name))) {
      report(node, `unknown helper "${path.original}" (helpers: ${Object.keys(KNOWN_HELPERS).filter((h) => !h.startsWith('_')).join(', ')})`);
    }
    for (const p of params) expr(p, scopes);
    for (const pair of hash?.pairs ?? []) expr(pair.value, scopes);
  };

  const statement = (n: hbs.AST.Statement, scopes: Scope[]) => {
    switch (n.type) {
      case 'MustacheStatement': {
        const m = n as hbs.AST.MustacheStatement;
        const name = helperName(m.path as Expr);
        if (m.params.length || m.hash?.pairs.length || (name && KNOWN_HELPERS[name])) call(m.path as Path, m.params, m.hash, scopes, m);
        else expr(m.path as Expr, scopes);
        return;
      }
      case 'BlockStatement': {
        const b = n as hbs.AST.BlockStatement;
        const name = helperName(b.path as Expr);
        if (!name || !(KNOWN_HELPERS[name] || BUILTIN_BLOCKS.includes(name))) {
          report(b, `{{#${b.path.original}}} is not a block helper: use {{#if ${b.path.original}}}, {{#each …}} or {{#with …}}`);
          return;
        }
        const shapes = b.params.map((p) => expr(p, scopes));
        for (const pair of b.hash?.pairs ?? []) expr(pair.value, scopes);
        let inner: Scope = scopes[scopes.length - 1];
        let pushes = false;
        if (name === 'each') {
          const s = shapes[0] ?? ANY;
          const item = s.kind === 'array' ? s.of : ANY;
          const params = new Map<string, Shape>();
          if (b.program.blockParams?.[0]) params.set(b.program.blockParams[0], item);
          if (b.program.blockParams?.[1]) params.set(b.program.blockParams[1], SCALAR);
          inner = { shape: item, params };
          pushes = true;
        } else if (name === 'with') {
          const params = new Map<string, Shape>();
          if (b.program.blockParams?.[0]) params.set(b.program.blockParams[0], shapes[0] ?? ANY);
          inner = { shape: shapes[0] ?? ANY, params };
          pushes = true;
        } else if (name === '__partial') {
          const caller = scopes[scopes.length - 1];
          const current = caller.shape;
          const fields: Record<string, Shape> = current.kind === 'object' ? { ...current.fields } : {};
          const pairs = (b.hash?.pairs ?? []) as hbs.AST.HashPair[];
          for (const pair of pairs) fields[pair.key] = pair.value.type === 'PathExpression' ? (resolve(pair.value as Path, scopes) ?? ANY) : SCALAR;
          const hashKeys = new Set([...(caller.root?.hashKeys ?? []), ...pairs.map((pair) => pair.key)]);
          inner = { shape: current.kind === 'object' || current.kind === 'scalar' ? { kind: 'object', fields } : ANY, params: new Map(), ...(caller.root ? { root: { hashKeys } } : {}) };
          pushes = true;
        }
        program(b.program, pushes ? [...scopes, inner] : scopes);
        if (b.inverse) program(b.inverse, scopes);
        return;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement':
        report(n, 'partials must be written {{> name key=value}} with a name from partials/');
        return;
      default:
        return;
    }
  };

  const program = (p: hbs.AST.Program, scopes: Scope[]) => {
    for (const s of p.body) statement(s, scopes);
  };

  program(ast, [{ shape: root, params: new Map(), root: { hashKeys: new Set() } }]);
  return { problems, uses, usesAll };
}

/** The nearest name by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
