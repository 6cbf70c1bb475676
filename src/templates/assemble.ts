import type { SourceProblem, SourceSet, TemplateFile } from './template-sources';

/**
 * Builds one MJML document from a template body, its layout and the partials they include,
 * remembering for every output line which file and line it came from (so MJML and
 * Handlebars errors point at the author's file). Pure text work, no MJML yet.
 */
export interface Origin {
  file: string;
  line: number;
}

export interface Assembled {
  text: string;
  origins: Origin[];
  /** Every file this document was built from (template, layout, partials). */
  files: Set<string>;
  /** The layout and what it includes, without the template body: where compliance must live. */
  layoutFiles: Set<string>;
  layoutFile?: string;
  problems: SourceProblem[];
}

interface Line {
  text: string;
  origin: Origin;
}

const PARTIAL = /\{\{>\s*([A-Za-z0-9_][A-Za-z0-9_-]*)((?:[^}]|\}(?!\}))*)\}\}/;
const MAX_DEPTH = 8;

/** `<dir>/<name>.<locale>.mjml`, else `<dir>/<name>.mjml`. */
export function resolveLocalized(set: SourceSet, dir: string, name: string, locale: string): string | undefined {
  const localized = `${dir}/${name}.${locale}.mjml`;
  if (set.has(localized)) return localized;
  const plain = `${dir}/${name}.mjml`;
  return set.has(plain) ? plain : undefined;
}

function fileLines(set: SourceSet, file: string, firstLine = 1, text = set.get(file) ?? ''): Line[] {
  return text.split('\n').map((t, i) => ({ text: t, origin: { file, line: firstLine + i } }));
}

export function assemble(set: SourceSet, templateFile: string, parsed: TemplateFile, locale: string): Assembled {
  const problems: SourceProblem[] = [];
  const files = new Set<string>([templateFile]);
  const layoutFiles = new Set<string>();
  const body = fileLines(set, templateFile, parsed.bodyLine, parsed.body);
  const layoutFile = resolveLocalized(set, 'layouts', parsed.fm.layout, locale);
  let lines: Line[];
  if (!layoutFile) {
    problems.push({ file: templateFile, line: parsed.fm.layoutLine, col: 1, message: `layout "${parsed.fm.layout}" not found (expected layouts/${parsed.fm.layout}.mjml or layouts/${parsed.fm.layout}.${locale}.mjml)` });
    lines = body;
  } else {
    files.add(layoutFile);
    layoutFiles.add(layoutFile);
    const layout = expandPartials(set, fileLines(set, layoutFile), locale, problems, [layoutFile], layoutFiles, 0);
    const at = layout.findIndex((l) => l.text.trim() === '{{{body}}}');
    if (at < 0) {
      problems.push({ file: layoutFile, line: 1, col: 1, message: 'layout has no {{{body}}} line (where each template\'s content goes)' });
      lines = layout;
    } else {
      lines = [...layout.slice(0, at), ...body, ...layout.slice(at + 1)];
    }
  }
  lines = expandPartials(set, lines, locale, problems, [], files, 0);
  for (const f of layoutFiles) files.add(f);
  return { text: lines.map((l) => l.text).join('\n'), origins: lines.map((l) => l.origin), files, layoutFiles, layoutFile, problems };
}

/**
 * `{{> name key=value}}` becomes `{{#__partial key=value}}` + the partial's lines + `{{/__partial}}`:
 * the partial is inlined before MJML runs (it may hold MJML), and Handlebars still gives it
 * the caller's context extended with the hash arguments, as a real partial would get.
 */
function expandPartials(set: SourceSet, lines: Line[], locale: string, problems: SourceProblem[], stack: string[], used: Set<string>, depth: number): Line[] {
  const out: Line[] = [];
  for (const line of lines) {
    let rest = line.text;
    let col = 0;
    for (;;) {
      const m = PARTIAL.exec(rest);
      if (!m) {
        out.push({ text: rest, origin: line.origin });
        break;
      }
      const name = m[1];
      const file = resolveLocalized(set, 'partials', name, locale);
      const where = { file: line.origin.file, line: line.origin.line, col: col + m.index + 1 };
      if (!file) {
        problems.push({ ...where, message: `partial "${name}" not found (expected partials/${name}.mjml or partials/${name}.${locale}.mjml)` });
        out.push({ text: rest.slice(0, m.index + m[0].length), origin: line.origin });
      } else if (stack.includes(file) || depth >= MAX_DEPTH) {
        problems.push({ ...where, message: `partial "${name}" includes itself (${[...stack, file].join(' → ')})` });
        out.push({ text: rest.slice(0, m.index + m[0].length), origin: line.origin });
      } else {
        used.add(file);
        out.push({ text: `${rest.slice(0, m.index)}{{#__partial${m[2].trimEnd() ? ' ' + m[2].trim() : ''}}}`, origin: line.origin });
        out.push(...expandPartials(set, fileLines(set, file).filter((l, i, all) => i < all.length - 1 || l.text.trim() !== ''), locale, problems, [...stack, file], used, depth + 1));
        out.push({ text: '{{/__partial}}', origin: line.origin });
      }
      col += m.index + m[0].length;
      rest = rest.slice(m.index + m[0].length);
      if (!rest.trim()) break;
      // The remainder of the line continues after the partial, still mapped to the caller's line.
    }
  }
  return out;
}
