import type { CompiledLocale } from './compile';
import type { SourceProblem } from './template-sources';

/**
 * Marketing email must carry, through its layout, the sender's name, postal address and
 * contact, and a visible unsubscribe link (Japan's Act on Specified Electronic Mail; Gmail
 * and Yahoo bulk-sender rules). Checked twice: the layout sources must use them (so no
 * template body can forget them), and a sample render must show them.
 */
export interface ComplianceInput {
  compiled: CompiledLocale;
  html: string;
  text: string;
  sender: { name: string; address: string; contact: string };
  unsubscribeUrl: string;
}

const LAW = 'required in marketing email (特定電子メール法; Gmail/Yahoo bulk-sender rules)';

export function checkCompliance(input: ComplianceInput, sources: (file: string) => string): SourceProblem[] {
  const { compiled, html, text, sender, unsubscribeUrl } = input;
  if (compiled.category !== 'marketing') return [];
  const problems: SourceProblem[] = [];
  const where = { file: compiled.file, line: 2, col: 1 };
  const layout = compiled.assembled.layoutFile;
  const layoutName = layout ? `its layout (${layout}${compiled.assembled.layoutFiles.size > 1 ? ' and the partials it includes' : ''})` : 'it has no layout and';
  const layoutText = [...compiled.assembled.layoutFiles].map(sources).join('\n');

  const needs: [string, RegExp, string, string][] = [
    ['the sender name', /\{\{\s*@?(root\.)?sender\.name\s*\}\}/, '{{sender.name}}', sender.name],
    ['the sender postal address', /\{\{\s*@?(root\.)?sender\.address\s*\}\}/, '{{sender.address}}', sender.address],
    ['the sender contact', /\{\{\s*@?(root\.)?sender\.contact\s*\}\}/, '{{sender.contact}}', sender.contact],
  ];
  for (const [what, pattern, expr, value] of needs) {
    if (!pattern.test(layoutText)) problems.push({ ...where, message: `marketing template: ${layoutName} does not show ${what} (${expr}), ${LAW}` });
    else if (!html.includes(escapeHtml(value)) || !text.includes(value)) {
      problems.push({ ...where, message: `marketing template: ${what} does not appear in the rendered email (is ${expr} inside a condition?), ${LAW}` });
    }
  }
  if (!/\{\{\s*unsubscribe\s*\}\}/.test(layoutText)) {
    problems.push({ ...where, message: `marketing template: ${layoutName} has no unsubscribe link (<a href="{{unsubscribe}}">…</a>), ${LAW}` });
  } else if (!hasVisibleLink(html, unsubscribeUrl) || !text.includes(unsubscribeUrl)) {
    problems.push({ ...where, message: `marketing template: the unsubscribe link is not visible in the rendered email (it needs link text and must not be hidden), ${LAW}` });
  }
  return problems;
}

/** An <a href=url> with non-empty text that is not styled away. */
function hasVisibleLink(html: string, url: string): boolean {
  const href = escapeHtml(url);
  const anchors = html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi);
  for (const [, attrs, inner] of anchors) {
    if (!attrs.includes(`href="${href}"`) && !attrs.includes(`href="${url}"`)) continue;
    const style = /style="([^"]*)"/i.exec(attrs)?.[1] ?? '';
    if (/display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(px)?\s*(;|$)/i.test(style)) continue;
    if (inner.replace(/<[^>]*>/g, '').replace(/&nbsp;/g, ' ').trim()) return true;
  }
  return false;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/`/g, '&#x60;').replace(/=/g, '&#x3D;');
}
