import { randomBytes } from 'node:crypto';
import { buildHeaderValue, foldLines } from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';

/** The parts of one email that go into its MIME message. */
export interface MimeParts {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  messageId: string;
  /** Header values, or `{ prepared: true, value }` for a value written as is (no encoding, no folding). */
  headers: Record<string, string | { prepared: true; value: string }>;
}

export interface MimeOptions {
  /** The Date header (default: now). */
  date?: Date;
  /** The shared part of the multipart boundary (default: unique per message). */
  baseBoundary?: string;
}

/**
 * The whole message (RFC 5322 + MIME: multipart/alternative, text then HTML, each base64 in
 * UTF-8) as one buffer: byte for byte what nodemailer's composer writes for the same options
 * (test/delivery/mime.test.ts compares them, and compares this with `composeMimeByNodes`
 * below over varied messages). Every header value is encoded and folded by nodemailer's own
 * functions (encoded words, address encoding, folding); what is done here once rather than
 * per message is what does not change between messages: the parts' header blocks (the same
 * two for every message, given whether the text is ASCII), the normalised header names and
 * the encoded lines of constant headers (From, List-Unsubscribe-Post). Messages with a
 * header this does not expect are composed by `composeMimeByNodes`.
 */
export function composeMime(mail: MimeParts, o: MimeOptions = {}): Buffer {
  const head = fastRootHeaders(mail, o);
  if (head === null) return composeMimeByNodes(mail, o);
  const { text, boundary } = head;
  const b = `--${boundary}`;
  const textHead = partHeaders('text/plain', NON_ASCII.test(mail.text));
  const htmlHead = partHeaders('text/html; charset=utf-8', NON_ASCII.test(mail.html));
  // All ASCII from here on: written as latin1, one byte per character.
  const rest = `\r\n\r\n${b}\r\n${textHead}\r\n\r\n${base64Lines(mail.text)}\r\n${b}\r\n${htmlHead}\r\n\r\n${base64Lines(mail.html)}\r\n${b}--\r\n`;
  const headLen = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(headLen + rest.length);
  out.write(text, 0, 'utf8');
  out.write(rest, headLen, 'latin1');
  return out;
}

/**
 * The same message assembled through nodemailer's MimeNode tree (one node per part): the
 * reference `composeMime` is checked against, and its path for unexpected headers.
 */
export function composeMimeByNodes(mail: MimeParts, o: MimeOptions = {}): Buffer {
  const root = new MimeNode('multipart/alternative', { textEncoding: 'B', baseBoundary: o.baseBoundary });
  root.addHeader(mail.headers as Record<string, string>);
  root.setHeader('From', mail.from);
  root.setHeader('To', mail.to);
  root.setHeader('Subject', mail.subject);
  root.setHeader('Message-ID', mail.messageId);
  if (o.date) root.setHeader('Date', o.date);
  const parts = [
    { type: 'text/plain', content: mail.text },
    { type: 'text/html; charset=utf-8', content: mail.html },
  ].map((p) => {
    const node = root.createChild(p.type, { textEncoding: 'B' });
    node.setHeader('Content-Transfer-Encoding', 'base64');
    node.setContent(p.content);
    return `${node.buildHeaders()}\r\n\r\n${base64Lines(p.content)}`;
  });
  const head = root.buildHeaders(); // after the children: the boundary is fixed when the root's headers are built
  const b = `--${root.boundary}`;
  return Buffer.from(`${head}\r\n\r\n${b}\r\n${parts.join(`\r\n${b}\r\n`)}\r\n${b}--\r\n`, 'utf8');
}

/** nodemailer's header encoding, as one node encodes its header values (an instance method the typings leave out). */
interface HeaderEncoder {
  encodeHeaderValue(key: string, value: string | Date): string;
  _normalizeHeaderKey(key: string): string;
}
const ENCODER = new MimeNode('text/plain', { textEncoding: 'B' }) as unknown as HeaderEncoder;

const NON_ASCII = /[\u0080-\uFFFF]/;
/** The headers composeMime writes itself; a caller's header by one of these names goes the MimeNode way. */
const OWN = new Set(['From', 'To', 'Subject', 'Message-ID', 'Date', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'Content-Disposition', 'Bcc']);
/** Headers whose encoded line is the same for every message (kept, a few distinct values at most). */
const CONSTANT = new Set(['From', 'List-Unsubscribe-Post']);
const keys = new Map<string, string>();
const constantLines = new Map<string, string>();
const parts = new Map<string, string>();

function normalizedKey(key: string): string {
  let k = keys.get(key);
  if (k === undefined) {
    k = ENCODER._normalizeHeaderKey(key);
    if (keys.size < 256) keys.set(key, k);
  }
  return k;
}

/** `Key: value`, encoded and folded as MimeNode.buildHeaders does; null when the value encodes to nothing (the header is left out). */
function headerLine(key: string, value: string | Date): string | null {
  const v = ENCODER.encodeHeaderValue(key, value);
  return v.trim() ? foldLines(`${key}: ${v}`, 76) : null;
}

/**
 * A plain address (dot-atom local part, lower-case LDH domain without A-labels) is written
 * by nodemailer exactly as given; anything else goes through its address parser.
 */
const PLAIN_TO = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[a-z0-9]+(-+[a-z0-9]+)*(\.[a-z0-9]+(-+[a-z0-9]+)*)+$/;
function toLine(to: string): string | null {
  return PLAIN_TO.test(to) && to.length < 70 && !to.includes('--') ? `To: ${to}` : headerLine('To', to);
}

function constantLine(key: string, value: string): string | null {
  const memo = `${key}\u0000${value}`;
  let line = constantLines.get(memo);
  if (line === undefined) {
    line = headerLine(key, value) ?? '';
    if (constantLines.size > 64) constantLines.clear();
    constantLines.set(memo, line);
  }
  return line || null;
}

/**
 * The root's header block in MimeNode's order (the caller's headers, From, To, Subject,
 * Message-ID, Date, MIME-Version, Content-Type last) and its boundary; null when a header is
 * not one this expects.
 */
function fastRootHeaders(mail: MimeParts, o: MimeOptions): { text: string; boundary: string } | null {
  if (!mail.messageId) return null;
  const lines: string[] = [];
  for (const [rawKey, value] of Object.entries(mail.headers)) {
    const key = normalizedKey(rawKey);
    if (!key || OWN.has(key)) return null;
    if (typeof value === 'object' && value !== null) {
      if (value.prepared !== true || Object.keys(value).length !== 2) return null;
      const v = String(value.value ?? '');
      if (v.trim()) lines.push(`${key}: ${v}`);
      continue;
    }
    if (typeof value !== 'string') return null;
    const line = CONSTANT.has(key) ? constantLine(key, value) : headerLine(key, value);
    if (line !== null) lines.push(line);
  }
  for (const line of [constantLine('From', mail.from), toLine(mail.to), headerLine('Subject', mail.subject), headerLine('Message-ID', mail.messageId), headerLine('Date', o.date ?? new Date())]) {
    if (line !== null) lines.push(line);
  }
  const boundary = `--_NmP-${o.baseBoundary ?? nextBaseBoundary()}-Part_1`;
  if (!/^[\w.-]+$/.test(boundary)) return null; // nodemailer would clean it first
  lines.push('MIME-Version: 1.0', foldLines(`Content-Type: ${buildHeaderValue({ value: 'multipart/alternative', params: { boundary } })}`, 76));
  return { text: lines.join('\r\n'), boundary };
}

/** A part's header block, as a MimeNode child with base64 writes it (depends only on the type and, for text/plain, on whether the content is ASCII). */
function partHeaders(type: string, nonAscii: boolean): string {
  const memo = `${type}|${nonAscii}`;
  let h = parts.get(memo);
  if (h === undefined) {
    const node = new MimeNode('multipart/alternative', { textEncoding: 'B' }).createChild(type, { textEncoding: 'B' });
    node.setHeader('Content-Transfer-Encoding', 'base64');
    node.setContent(nonAscii ? '\u00e9' : 'a');
    h = node.buildHeaders();
    parts.set(memo, h);
  }
  return h;
}

/**
 * A unique shared boundary part per message, as nodemailer's (16 hex digits): a random
 * per-process prefix and a counter. Base64 bodies never contain '_', so no body line can
 * match the boundary whatever its value.
 */
const processBoundary = randomBytes(4).toString('hex');
let boundaryCounter = 0;
function nextBaseBoundary(): string {
  boundaryCounter = (boundaryCounter + 1) >>> 0;
  return processBoundary + boundaryCounter.toString(16).padStart(8, '0');
}

/** Where text is encoded to UTF-8 on its way to base64 (kept between messages: no buffer per part). */
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

/** Base64 of the UTF-8 bytes in lines of 76 characters (RFC 2045), CRLF between lines. */
function base64Lines(s: string): string {
  let b64: string;
  if (3 * s.length > 4 * 1024 * 1024) b64 = Buffer.from(s, 'utf8').toString('base64'); // not kept
  else {
    if (scratch.length < 3 * s.length) scratch = Buffer.allocUnsafeSlow(3 * s.length);
    b64 = scratch.toString('base64', 0, scratch.write(s, 0, 'utf8'));
  }
  if (b64.length <= 76) return b64;
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\r\n');
}
