/**
 * A request body parsed as the app's JSON body parser (body-parser 2, strict) parses it, so
 * the raw ingestion listener accepts and refuses exactly the same bodies with the same
 * messages: UTF-8 with a leading BOM dropped (iconv-lite's decode), an empty body is `{}`, a
 * body whose first non-blank character is not `{` or `[` is refused as body-parser's strict
 * mode refuses it, anything else is `JSON.parse`'s. A refusal is thrown in body-parser's shape
 * (`type: 'entity.parse.failed'`), which the exception mapping answers with a 400.
 * `test/ingestion/json-body.test.ts` compares both on generated bodies.
 */
export function parseJsonBody(bytes: Buffer): unknown {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) return {};
  if (text[0] !== '{' && text[0] !== '[') {
    const first = FIRST_NON_BLANK.exec(text)?.[1] || undefined;
    if (first !== '{' && first !== '[') throw strictViolation(text, first);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw parseFailed((e as Error).message);
  }
}

const FIRST_NON_BLANK = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/;

export interface BodyParseError {
  type: 'entity.parse.failed';
  status: 400;
  message: string;
}

function parseFailed(message: string): BodyParseError {
  return { type: 'entity.parse.failed', status: 400, message };
}

/** body-parser's message for a top-level value that is not an object or array: JSON.parse's, at the right character. */
function strictViolation(text: string, first: string | undefined): BodyParseError {
  const index = text.indexOf(String(first));
  const partial = index === -1 ? '' : text.substring(0, index) + '#'.repeat(text.length - index);
  try {
    JSON.parse(partial);
    return parseFailed('strict violation');
  } catch (e) {
    return parseFailed((e as Error).message.replace(/#+/g, (placeholder) => text.substring(index, index + placeholder.length)));
  }
}
