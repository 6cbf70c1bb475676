import { Document, isMap, isNode, isPair, isScalar, isSeq, LineCounter, Node, parseDocument } from 'yaml';
import { formatPath } from '../common/errors';

/** A problem in an authored file: `file:line:col: message (at yaml.path)`. */
export interface SourceProblem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

export function formatProblem(p: SourceProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message} (at ${p.path})`;
}

/** A parsed YAML file that can point at any of its values by path. */
export class YamlSource {
  readonly doc: Document;
  readonly problems: SourceProblem[] = [];
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) {
      const { line, col } = this.position(e.pos?.[0] ?? 0);
      this.problems.push({ file, line, col, path: '(root)', message: `YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` });
    }
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  /**
   * The plain value, computed once. Aliases that cannot be resolved (unknown anchor, or an
   * alias bomb past the library's limit) become a problem at the document start and null.
   */
  toJS(): unknown {
    if (this.js === undefined) {
      try {
        this.js = { value: this.doc.toJS() };
      } catch (e) {
        const { line, col } = this.position(0);
        this.problems.push({ file: this.file, line, col, path: '(root)', message: `YAML: ${(e as Error).message.split('\n')[0].trim()}` });
        this.js = { value: null };
      }
    }
    return this.js.value;
  }
  private js: { value: unknown } | undefined;

  /** The node at a path; with `key`, the key node of the last segment (for unknown keys). */
  node(path: ReadonlyArray<PropertyKey>, key = false): Node | undefined {
    let cur: unknown = this.doc.contents;
    let last: Node | undefined = isNode(cur) ? cur : undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(cur)) {
        const pair = cur.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return last;
        if (key && i === path.length - 1 && isNode(pair.key)) return pair.key;
        cur = pair.value;
      } else if (isSeq(cur) && typeof seg === 'number') {
        cur = cur.items[seg];
      } else return last;
      if (isNode(cur)) last = cur;
      else return last;
    }
    return last;
  }

  /** Line and column (1-based) of a character offset. */
  position(offset: number): { line: number; col: number } {
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /** Adds a problem at a path; `offset` points inside a scalar (a condition text). */
  problem(path: ReadonlyArray<PropertyKey>, message: string, opts: { key?: boolean; offset?: number } = {}): void {
    const node = this.node(path, opts.key);
    let at = node?.range ? node.range[0] : 0;
    if (opts.offset !== undefined && node && isScalar(node) && typeof node.value === 'string' && node.range) {
      const raw = this.text.slice(node.range[0], node.range[1]);
      const idx = raw.indexOf(node.value);
      at = node.range[0] + (idx >= 0 ? idx + opts.offset : 0);
    }
    const { line, col } = this.position(at);
    this.problems.push({ file: this.file, line, col, path: formatPath(path), message });
  }
}
