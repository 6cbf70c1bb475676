import { createHash } from 'node:crypto';
import type Handlebars from 'handlebars';
import { compile as compileHtmlToText } from 'html-to-text';
import mjml2html from 'mjml';
import { assemble, Assembled } from './assemble';
import { checkVariables } from './check-variables';
import { fastCompile, Unsupported } from './fast-compile';
import { FeatureInfo, fastRenderer, KNOWN_HELPERS } from './helpers';
import { checkTagBalance, protectHandlebars } from './mjml-protect';
import { Category, FEATURES_FILE, parseTemplateFile, SourceProblem, SourceSet, TemplateFile } from './template-sources';

/**
 * From sources to render functions, once per content hash: assemble (layout, body,
 * partials) → Handlebars parse and strict variable check → MJML (Handlebars protected) →
 * one Handlebars function for the HTML and one for the text part (the text is derived from
 * the compiled HTML here, once, not per recipient).
 */
/** One compiled part: (context, data frame) → string. */
export type Render = (context: object, data: Record<string, unknown>) => string;

export interface CompiledLocale {
  locale: string;
  file: string;
  category: Category;
  subject: Render;
  preheader: Render;
  html: Render;
  text: Render;
  /** The Handlebars sources of the four parts (after MJML), as compiled into the functions above. */
  sources: { subject: string; preheader: string; html: string; text: string };
  variables: string[];
  /** Context paths the parts read (body, layout, partials, subject, preheader); `usesAll`: the whole context (see checkVariables). */
  uses: string[];
  usesAll: boolean;
  assembled: Assembled;
  parsed: TemplateFile;
}

export interface CompiledTemplate {
  name: string;
  version: string;
  category: Category;
  locales: Map<string, CompiledLocale>;
  features: Record<string, FeatureInfo>;
  /** Exactly the sources this version was built from (stored in template_versions). */
  sources: Record<string, string>;
}

export interface Plan {
  name: string;
  version: string;
  files: string[];
  locales: { locale: string; file: string; parsed?: TemplateFile; assembled?: Assembled; problems: SourceProblem[] }[];
}

/** Which files a template is built from and the content hash over them: cheap, no MJML. */
export function planTemplate(name: string, set: SourceSet, locales: string[]): Plan {
  const files = new Set<string>();
  if (set.has(FEATURES_FILE)) files.add(FEATURES_FILE);
  const planned = locales.map((locale) => {
    const file = `${name}/${locale}.mjml`;
    files.add(file);
    const parsed = parseTemplateFile(file, set.get(file) ?? '');
    if (!parsed.ok) return { locale, file, problems: parsed.problems };
    const assembled = assemble(set, file, parsed.value, locale);
    for (const f of assembled.files) files.add(f);
    return { locale, file, parsed: parsed.value, assembled, problems: [...assembled.problems] };
  });
  const sorted = [...files].sort();
  const hash = createHash('sha256');
  hash.update(`touchline-template-v1\0${name}\0`);
  for (const f of sorted) hash.update(`${f}\0${set.get(f) ?? ''}\0`);
  return { name, version: hash.digest('hex').slice(0, 24), files: sorted, locales: planned };
}

const toText = compileHtmlToText({
  wordwrap: false,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['<', '>'] } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', format: 'block' },
    { selector: 'tr', format: 'block' },
    { selector: 'td', format: 'block' },
  ],
});

const HB_OPTIONS = { knownHelpers: KNOWN_HELPERS, knownHelpersOnly: true } as const;

/**
 * A render function for a template source: Touchline's closure compiler over Handlebars' own
 * parse (fast-compile.ts), or Handlebars' compiled code for anything that compiler does not take.
 */
export function renderFunction(hb: typeof Handlebars, source: string, noEscape: boolean): Render {
  const options = { ...HB_OPTIONS, ...(noEscape ? { noEscape: true } : {}) };
  try {
    return fastCompile(hb, hb.parse(source), options);
  } catch (err) {
    if (!(err instanceof Unsupported)) throw err;
    return fastRenderer(hb, hb.compile(source, options));
  }
}

export async function compileTemplate(
  hb: typeof Handlebars,
  plan: Plan,
  set: SourceSet,
  features: Record<string, FeatureInfo>,
): Promise<{ compiled?: CompiledTemplate; problems: SourceProblem[] }> {
  const problems: SourceProblem[] = [];
  const locales = new Map<string, CompiledLocale>();
  for (const p of plan.locales) {
    problems.push(...p.problems);
    if (!p.parsed || !p.assembled || p.problems.length) continue;
    const compiled = await compileLocale(hb, p.locale, p.file, p.parsed, p.assembled, problems, set);
    if (compiled) locales.set(p.locale, compiled);
  }
  const categories = new Set([...locales.values()].map((l) => l.category));
  if (categories.size > 1) {
    for (const l of locales.values()) problems.push({ file: l.file, line: 2, col: 1, message: `every locale of "${plan.name}" must have the same category (found ${[...categories].join(' and ')})` });
  }
  if (problems.length || !locales.size) return { problems };
  return {
    problems,
    compiled: {
      name: plan.name,
      version: plan.version,
      category: [...categories][0],
      locales,
      features,
      sources: Object.fromEntries(plan.files.map((f) => [f, set.get(f) ?? ''])),
    },
  };
}

async function compileLocale(
  hb: typeof Handlebars,
  locale: string,
  file: string,
  parsed: TemplateFile,
  assembled: Assembled,
  problems: SourceProblem[],
  sources: SourceSet,
): Promise<CompiledLocale | undefined> {
  const before = problems.length;
  const origin = (line: number) => assembled.origins[line - 1] ?? { file, line };
  // 1. Handlebars syntax of each file on its own (so an unclosed block points at its own file),
  //    then variables on the assembled document (mapped back to files).
  for (const f of assembled.files) {
    const own = f === file ? parsed.body : (sources.get(f) ?? '');
    const first = f === file ? parsed.bodyLine : 1;
    try {
      hb.parse(own);
    } catch (err) {
      problems.push(handlebarsError(err, (line) => ({ file: f, line: line + first - 1 }), (line) => own.split('\n')[line - 1] ?? '', own, first, f));
    }
  }
  if (problems.length > before) return undefined;
  let ast: hbs.AST.Program;
  try {
    ast = hb.parse(assembled.text);
  } catch (err) {
    problems.push(handlebarsError(err, (line) => origin(line), (line) => assembled.text.split('\n')[line - 1] ?? ''));
    return undefined;
  }
  const body = checkVariables(ast);
  for (const v of body.problems) problems.push({ ...origin(v.line), col: v.col, message: v.message });
  const uses = new Set(body.uses);
  let usesAll = body.usesAll;
  const fieldTemplate = (text: string, line: number, field: string): Render | undefined => {
    try {
      const fieldAst = hb.parse(text);
      const checked = checkVariables(fieldAst);
      for (const v of checked.problems) problems.push({ file, line, col: 1, message: `${field}: ${v.message}` });
      checked.uses.forEach((u) => uses.add(u));
      usesAll ||= checked.usesAll;
      return renderFunction(hb, text, true);
    } catch (err) {
      problems.push({ file, line, col: 1, message: `${field}: ${handlebarsError(err, () => ({ file, line }), () => text).message}` });
      return undefined;
    }
  };
  const subject = fieldTemplate(parsed.fm.subject, parsed.fm.subjectLine, 'subject');
  const preheader = fieldTemplate(parsed.fm.preheader, parsed.fm.preheaderLine, 'preheader');
  parsed.fm.variables.forEach((v, i) => {
    let declared: ReturnType<typeof checkVariables>;
    try {
      declared = checkVariables(hb.parse(`{{${v.replace(/[{}]/g, '')}}}`));
    } catch {
      problems.push({ file, line: parsed.fm.variableLines[i], col: 1, message: `variables: "${v}" is not a context path such as contact.name` });
      return;
    }
    for (const p of declared.problems) problems.push({ file, line: parsed.fm.variableLines[i], col: 1, message: `variables: ${p.message}` });
  });
  // 2. MJML structure, with Handlebars swapped out for inert tokens.
  const prot = protectHandlebars(assembled.text);
  for (const t of checkTagBalance(prot.text)) problems.push({ ...origin(t.line + 1), col: t.col, message: t.message });
  if (problems.length > before) return undefined;
  let result: Awaited<ReturnType<typeof mjml2html>>;
  try {
    result = await mjml2html(prot.text, { validationLevel: 'soft', keepComments: false });
  } catch (err) {
    problems.push({ ...origin(malformedLine(prot.text)), col: 1, message: `MJML: ${(err as Error).message}` });
    return undefined;
  }
  for (const e of result.errors) problems.push({ ...origin(e.line), col: 1, message: `MJML: ${e.message}` });
  if (problems.length > before || !subject || !preheader) return undefined;
  // 3. The render functions: compiled once here, run per recipient.
  // Static indentation in the text part is layout noise; values are inserted after this.
  const text = toText(result.html).replace(/\n[ \t]+/g, '\n');
  const parts = { subject: parsed.fm.subject, preheader: parsed.fm.preheader, html: prot.restore(result.html), text: prot.restore(text) };
  let html: Render, textRender: Render;
  try {
    html = renderFunction(hb, parts.html, false);
    textRender = renderFunction(hb, parts.text, true);
  } catch (err) {
    // MJML dropped or moved part of a block (e.g. {{#if}} in one element, {{/if}} in another).
    const lost = [...prot.text.matchAll(/TLHB\d+Q/g)].find((m) => !result.html.includes(m[0]));
    const line = lost ? prot.text.slice(0, lost.index).split('\n').length : 1;
    const first = String((err as Error).message).split('\n').pop();
    problems.push({ ...origin(line), col: 1, message: `Handlebars after MJML: a block does not survive MJML here; keep {{#…}} and its {{/…}} inside one MJML element, or each on a line of its own between elements (${first})` });
    return undefined;
  }
  return {
    locale,
    file,
    category: parsed.fm.category,
    subject,
    preheader,
    html,
    text: textRender,
    sources: parts,
    variables: parsed.fm.variables,
    uses: [...uses].sort(),
    usesAll,
    assembled,
    parsed,
  };
}

/**
 * The text part's whitespace rule, applied to every rendered text part (TemplateEngine): no
 * spaces or tabs around a line break, at most one blank line. The same result as replacing
 * the regex `[ \t]*\n[ \t]*` with a line break and then `\n{3,}` with two (tested against
 * that), in one pass from line break to line break: the two regex passes cost more than
 * rendering the text.
 */
export function normalizeText(text: string): string {
  let i = text.indexOf('\n');
  if (i === -1) return text;
  let out = '';
  let from = 0;
  const n = text.length;
  while (i !== -1) {
    // A cluster: spaces/tabs, then line breaks with only spaces/tabs between and after them.
    let start = i;
    for (let c = text.charCodeAt(start - 1); start > from && (c === 32 || c === 9); c = text.charCodeAt(--start - 1));
    let end = i;
    let breaks = 0;
    for (; end < n; end++) {
      const c = text.charCodeAt(end);
      if (c === 10) breaks++;
      else if (c !== 32 && c !== 9) break;
    }
    // A lone line break with nothing around it stays as it is (most of them): nothing to copy.
    if (breaks > 1 || start !== i || end !== i + 1) {
      out += text.slice(from, start) + (breaks > 1 ? '\n\n' : '\n');
      from = end;
    }
    i = end < n ? text.indexOf('\n', end) : -1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Handlebars errors come as "Parse error on line N: …" text or as exceptions with a location. */
function handlebarsError(
  err: unknown,
  origin: (line: number) => { file: string; line: number },
  lineText: (line: number) => string,
  source?: string,
  firstLine = 1,
  file?: string,
): SourceProblem {
  const e = err as { message?: string; lineNumber?: number; column?: number };
  const message = String(e.message ?? err);
  if (typeof e.lineNumber === 'number') {
    return { ...origin(e.lineNumber), col: (e.column ?? 0) + 1, message: `Handlebars: ${message.replace(/ - \d+:\d+$/, '')}` };
  }
  const m = /^(?:Parse|Lexical) error on line (\d+):?\n?([^\n]*)\n?(-*)\^?\n?(.*)$/s.exec(message);
  if (!m) return { ...origin(1), col: 1, message: `Handlebars: ${message}` };
  const line = Number(m[1]);
  const past = m[2].slice(0, m[3].length).replace(/^\.\.\./, '');
  const idx = past ? lineText(line).indexOf(past) : -1;
  let col = idx >= 0 ? idx + past.length + 1 : 1;
  // Point at the expression that went wrong: the last "{{" before the error on that line.
  const open = lineText(line).lastIndexOf('{{', col - 1);
  if (open >= 0) col = open + 1;
  const got = /got '([A-Z_]+)'/.exec(m[4])?.[1];
  if (got === 'EOF' && source !== undefined && file) {
    const open = unclosedBlock(source);
    if (open) return { file, line: open.line + firstLine - 1, col: open.col, message: `Handlebars: {{#${open.name}}} is not closed (missing {{/${open.name}}})` };
  }
  const what =
    got === 'EOF'
      ? 'a block or expression is not closed by the end of the file (missing {{/…}} or }})'
      : got === 'INVALID'
        ? 'this expression is not closed with }} or holds an invalid character'
        : `unexpected ${got ? got.toLowerCase().replace('_', ' ') : 'token'}`;
  return { ...origin(line), col, message: `Handlebars syntax error: ${what}` };
}

/** The innermost block opened and never closed, by a scan of `{{#name` / `{{/name` tokens. */
function unclosedBlock(source: string): { name: string; line: number; col: number } | undefined {
  const stack: { name: string; line: number; col: number }[] = [];
  const lines = source.split('\n');
  lines.forEach((text, i) => {
    for (const m of text.matchAll(/\{\{~?([#/^])\s*([A-Za-z_][\w-]*)/g)) {
      if (m[1] === '/') {
        const at = stack.map((s) => s.name).lastIndexOf(m[2]);
        if (at >= 0) stack.splice(at);
      } else if (m[1] === '#') stack.push({ name: m[2], line: i + 1, col: (m.index ?? 0) + 1 });
    }
  });
  return stack[stack.length - 1];
}

/** Where MJML's "malformed" most likely starts: an unclosed comment, else a second <mjml> or </mjml>, else line 1. */
function malformedLine(text: string): number {
  const lineAt = (i: number) => text.slice(0, i).split('\n').length;
  const comment = text.lastIndexOf('<!--');
  if (comment >= 0 && text.indexOf('-->', comment) < 0) return lineAt(comment);
  const tags = [...text.matchAll(/<\/?mjml\b/g)];
  const open = tags.findIndex((m) => m[0] === '<mjml');
  const stray = tags.find((m, i) => (m[0] === '<mjml' && i !== open) || (m[0] === '</mjml' && i < tags.length - 1));
  return stray ? lineAt(stray.index) : 1;
}
