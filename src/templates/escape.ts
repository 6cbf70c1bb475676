import Handlebars from 'handlebars';

const escapeExpression = Handlebars.Utils.escapeExpression as (v: unknown) => string;
/** The characters Handlebars escapes (its `possible` test). */
const NEEDS_ESCAPE = /[&<>"'`=]/;

/**
 * Handlebars' escapeExpression, the same output for every value, with fast paths for what
 * templates insert most: strings that need nothing (one native regex test, as Handlebars
 * does), strings that do (one scan instead of a replace with a callback per character), and
 * numbers (whose text — digits, ".", "-", "+", "e", "Infinity", "NaN" — never needs escaping).
 * Anything else (null, booleans, objects with toHTML, …) goes to Handlebars itself.
 * Held to Handlebars by test/templates/fast-compile.test.ts.
 */
export function escapeHtml(value: unknown): string {
  if (typeof value === 'string') return NEEDS_ESCAPE.test(value) ? replaceSpecials(value) : value;
  if (typeof value === 'number') return '' + value;
  return escapeExpression(value);
}

/** Handlebars' escape map: & < > " ' ` = */
function replaceSpecials(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0, n = s.length; i < n; i++) {
    let entity: string;
    switch (s.charCodeAt(i)) {
      case 38:
        entity = '&amp;';
        break;
      case 60:
        entity = '&lt;';
        break;
      case 62:
        entity = '&gt;';
        break;
      case 34:
        entity = '&quot;';
        break;
      case 39:
        entity = '&#x27;';
        break;
      case 96:
        entity = '&#x60;';
        break;
      case 61:
        entity = '&#x3D;';
        break;
      default:
        continue;
    }
    out += last === i ? entity : s.slice(last, i) + entity;
    last = i + 1;
  }
  return last === s.length ? out : out + s.slice(last);
}
