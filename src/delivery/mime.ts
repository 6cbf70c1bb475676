import MimeNode from 'nodemailer/lib/mime-node';

/** The parts of one email that go into its MIME message. */
export interface MimeParts {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  messageId: string;
  headers: Record<string, string>;
}

/**
 * The whole message (RFC 5322 + MIME: multipart/alternative, text then HTML, each base64 in
 * UTF-8) as one buffer. Every header is built by nodemailer's own MimeNode (address and
 * encoded-word encoding, folding, Date, MIME-Version, boundary), so the output is what
 * nodemailer's composer writes for the same options (test/delivery/mime.test.ts compares them
 * byte for byte); only the assembly is done here, in one pass: nodemailer's composer streams
 * each part through encoder streams with an event-loop turn per step, which cost about 2 ms of
 * CPU per 21 KB message on the development machine, two thirds of a bare pooled send.
 */
export function composeMime(mail: MimeParts, o: { date?: Date; baseBoundary?: string } = {}): Buffer {
  const root = new MimeNode('multipart/alternative', { textEncoding: 'B', baseBoundary: o.baseBoundary });
  root.addHeader(mail.headers);
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

/** Base64 of the UTF-8 bytes in lines of 76 characters (RFC 2045), CRLF between lines. */
function base64Lines(s: string): string {
  const b64 = Buffer.from(s, 'utf8').toString('base64');
  if (b64.length <= 76) return b64;
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\r\n');
}
