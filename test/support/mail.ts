import { ParsedMail, simpleParser } from 'mailparser';
import { performance } from 'node:perf_hooks';
import { SMTPServer, SMTPServerAddress } from 'smtp-server';
import { MessageLinks, MessageRenderer, RenderedEmail, RenderInput } from '../../src/delivery/message-renderer';

/** Mail test doubles shared by delivery tests, the crash-test child and the deliver benchmark. */

export interface Received {
  to: string;
  raw: string;
  mail: ParsedMail;
}

export interface SmtpSink {
  port: number;
  url: string;
  received: Received[];
  /** performance.now() of every accepted RCPT TO (rate-limit checks). */
  rcptTimes: number[];
  /** Delay before accepting each message's data (keeps batches in flight for crash tests). */
  dataDelayMs: number;
  /** Decide the RCPT TO reply per address: return an SMTP error line such as "451 4.3.0 try later", or null to accept. */
  rcpt: (address: string) => string | null;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) that keeps (and, unless told not to, parses with mailparser) everything it accepts. */
export async function startSmtpSink(parse = true): Promise<SmtpSink> {
  const sink: SmtpSink = { port: 0, url: '', received: [], rcptTimes: [], dataDelayMs: 0, rcpt: () => null, close: async () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const reply = sink.rcpt(address.address);
      if (!reply) {
        sink.rcptTimes.push(performance.now());
        return callback();
      }
      const err = new Error(reply.replace(/^\d{3}\s*/, '')) as Error & { responseCode: number };
      err.responseCode = Number(reply.slice(0, 3));
      callback(err);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const to = session.envelope.rcptTo.map((r) => r.address).join(',');
        sink.received.push({ to, raw, mail: parse ? await simpleParser(raw) : (undefined as unknown as ParsedMail) });
        if (sink.dataDelayMs) setTimeout(() => callback(), sink.dataDelayMs);
        else callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  sink.port = (server.server.address() as { port: number }).port;
  sink.url = `smtp://127.0.0.1:${sink.port}`;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

/** A renderer for tests: `Hello {{name}}` style, with the unsubscribe link in both parts. */
export class TestRenderer extends MessageRenderer {
  renders = 0;
  failFor = new Set<string>();

  async render(input: RenderInput, links: MessageLinks): Promise<RenderedEmail> {
    this.renders++;
    if (this.failFor.has(input.template)) throw new Error(`template ${input.template}: unknown variable "x" at templates/${input.template}/en.mjml:3`);
    const name = String(input.context.name ?? 'there');
    const footer = input.category === 'marketing' ? links.unsubscribeUrl : '';
    return {
      templateVersion: 'v-test-1',
      subject: `Hello ${name} (${input.template})`,
      html: `<p>Hello <b>${name}</b>, message ${input.id}.</p><p><a href="${footer}">unsubscribe</a></p>`,
      text: `Hello ${name}, message ${input.id}.\n${footer}\n`,
    };
  }
}

