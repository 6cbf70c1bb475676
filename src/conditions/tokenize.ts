/** Tokens of the condition text form; errors carry the character offset for file:line:col. */
export class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface Token {
  kind: 'word' | 'num' | 'str' | 'op' | 'punct' | 'end';
  text: string;
  value?: string | number;
  at: number;
}

export const OPS = ['<=', '>=', '!=', '==', '=', '<', '>'];
export const WORD = /[\p{L}\p{N}_-]/u;

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const at = i;
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== ch) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j++];
      }
      if (j >= src.length) throw new ConditionSyntaxError('unterminated string', at);
      // PostgreSQL text cannot hold NUL: refuse it here rather than fail every evaluation later.
      if (s.includes('\u0000')) throw new ConditionSyntaxError('a string cannot contain the NUL character', at + 1 + src.slice(i + 1, j).indexOf('\u0000'));
      out.push({ kind: 'str', text: src.slice(i, j + 1), value: s, at });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ kind: 'op', text: op, at });
      i += op.length;
      continue;
    }
    if ('()[],.*:'.includes(ch)) {
      out.push({ kind: 'punct', text: ch, at });
      i++;
      continue;
    }
    const num = /^-?\d+(\.\d+)?[\p{L}\p{N}_-]*/u.exec(src.slice(i));
    if (num) {
      const text = num[0];
      out.push(/^-?\d+(\.\d+)?$/.test(text) ? { kind: 'num', text, value: Number(text), at } : { kind: 'word', text, value: text, at });
      i += text.length;
      continue;
    }
    if (WORD.test(ch)) {
      let j = i;
      while (j < src.length && WORD.test(src[j])) j++;
      out.push({ kind: 'word', text: src.slice(i, j), value: src.slice(i, j), at });
      i = j;
      continue;
    }
    throw new ConditionSyntaxError(`unexpected character "${ch}"`, at);
  }
  out.push({ kind: 'end', text: 'end of condition', at: src.length });
  return out;
}
