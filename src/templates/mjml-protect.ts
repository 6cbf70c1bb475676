/**
 * Keeps Handlebars intact through MJML. Every `{{…}}` is swapped for an inert token before
 * MJML runs and swapped back after; a line holding only Handlebars between MJML elements
 * (`{{#if}}`, `{{else}}`, `{{/each}}` around sections) is wrapped in <mj-raw> so MJML keeps it
 * in place instead of dropping it. Line numbers are preserved so MJML errors map back.
 */
export interface Protected {
  text: string;
  restore(html: string): string;
}

// Comments first (they may contain "}}"), then triple and double mustaches.
const MUSTACHE = /\{\{!--[\s\S]*?--\}\}|\{\{\{[\s\S]*?\}\}\}|\{\{[\s\S]*?\}\}/g;
const TOKEN = /TLHB(\d+)Q/g;
/** Elements whose content MJML passes through as HTML: Handlebars may appear anywhere inside them. */
const ENDING = new Set(['mj-text', 'mj-button', 'mj-raw', 'mj-table', 'mj-navbar-link', 'mj-accordion-title', 'mj-accordion-text', 'mj-social-element', 'mj-preview', 'mj-title', 'mj-style']);
const TAG = /<(\/?)(mj-[a-z0-9-]+|mjml)\b(?:[^>"']|"[^"]*"|'[^']*')*?(\/?)>/g;

export function protectHandlebars(source: string): Protected {
  const originals: string[] = [];
  const tokenized = source.replace(MUSTACHE, (m) => {
    originals.push(m);
    // Keep the line count of multi-line expressions.
    return `TLHB${originals.length - 1}Q${'\n'.repeat((m.match(/\n/g) ?? []).length)}`;
  });
  const lines = tokenized.split('\n');
  let inside = 0;
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].trim();
    if (inside === 0 && trimmed && /^(TLHB\d+Q\s*)+$/.test(trimmed)) {
      lines[i] = lines[i].replace(trimmed, `<mj-raw>${trimmed}</mj-raw>`);
      continue;
    }
    for (const m of lines[i].matchAll(TAG)) {
      if (!ENDING.has(m[2]) || m[3]) continue;
      inside += m[1] ? -1 : 1;
      if (inside < 0) inside = 0;
    }
  }
  return {
    text: lines.join('\n'),
    restore: (html) => html.replace(TOKEN, (_, n: string) => originals[Number(n)] ?? ''),
  };
}

export interface TagProblem {
  /** 0-based line of the protected text. */
  line: number;
  col: number;
  message: string;
}

/** MJML's parser forgives unclosed and stray tags; authors get an error instead. */
export function checkTagBalance(text: string): TagProblem[] {
  const problems: TagProblem[] = [];
  const stack: { name: string; line: number; col: number }[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const pos = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, col: offset - lineStarts[lo] + 1 };
  };
  let rawDepth = 0;
  for (const m of text.matchAll(TAG)) {
    const [, closing, name, selfClosing] = m;
    const p = pos(m.index ?? 0);
    if (selfClosing) continue;
    // HTML inside ending tags is not MJML; only track the ending tag itself.
    const top = stack[stack.length - 1];
    if (rawDepth > 0 && !(closing && top && top.name === name)) continue;
    if (!closing) {
      stack.push({ name, line: p.line, col: p.col });
      if (ENDING.has(name)) rawDepth++;
      continue;
    }
    if (!top) {
      problems.push({ ...p, message: `</${name}> has no opening <${name}>` });
      continue;
    }
    if (top.name !== name) {
      const opened = stack.findIndex((s) => s.name === name);
      if (opened < 0) {
        problems.push({ ...p, message: `</${name}> has no opening <${name}> (the open element here is <${top.name}>)` });
        continue;
      }
      while (stack.length > opened + 1) {
        const u = stack.pop()!;
        problems.push({ line: u.line, col: u.col, message: `<${u.name}> is not closed (expected </${u.name}> before </${name}>)` });
      }
    }
    const closed = stack.pop()!;
    if (ENDING.has(closed.name)) rawDepth = Math.max(0, rawDepth - 1);
  }
  for (const u of stack) problems.push({ line: u.line, col: u.col, message: `<${u.name}> is not closed` });
  return problems;
}
