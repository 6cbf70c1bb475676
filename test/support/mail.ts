import Handlebars from 'handlebars';
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
  /** Decide the greeting per new connection: an SMTP error line such as "421 4.7.0 busy" refuses the session, null greets. */
  connect: () => string | null;
  /** Connections accepted at TCP level (fault tests count reconnects). */
  connections: number;
  /** Drop the open connections (clients must reconnect, and meet `connect` again). */
  drop(): void;
  /** Stop accepting TCP connections (new ones are refused) and drop the open ones; `listen()` again on the same port. */
  refuse(): Promise<void>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) that keeps (and, unless told not to, parses with mailparser) everything it accepts; `keep: 'headers'` keeps only the header block of unparsed mail. */
export async function startSmtpSink(parse = true, keep: 'all' | 'headers' = 'all'): Promise<SmtpSink> {
  const sink: SmtpSink = {
    port: 0, url: '', received: [], rcptTimes: [], dataDelayMs: 0, rcpt: () => null, connect: () => null, connections: 0,
    drop: () => undefined, refuse: async () => undefined, listen: async () => undefined, close: async () => undefined,
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      const reply = sink.connect();
      if (!reply) return callback();
      callback(smtpError(reply));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const reply = sink.rcpt(address.address);
      if (!reply) {
        sink.rcptTimes.push(performance.now());
        return callback();
      }
      callback(smtpError(reply));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        let raw = Buffer.concat(chunks).toString('utf8');
        // Large runs that only count messages keep the header block (the body can be 30 KB).
        const headerEnd = keep === 'headers' && !parse ? raw.indexOf('\r\n\r\n') : -1;
        if (headerEnd >= 0) raw = raw.slice(0, headerEnd + 2);
        const to = session.envelope.rcptTo.map((r) => r.address).join(',');
        sink.received.push({ to, raw, mail: parse ? await simpleParser(raw) : (undefined as unknown as ParsedMail) });
        if (sink.dataDelayMs) setTimeout(() => callback(), sink.dataDelayMs);
        else callback();
      });
    },
  });
  // Crash tests kill clients mid-session: their connection resets are expected, not test failures.
  server.on('error', () => {});
  const sockets = new Set<import('node:net').Socket>();
  server.server.on('connection', (socket: import('node:net').Socket) => {
    sink.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  sink.port = (server.server.address() as { port: number }).port;
  sink.url = `smtp://127.0.0.1:${sink.port}`;
  sink.drop = () => {
    for (const s of sockets) s.destroy();
  };
  sink.refuse = async () => {
    const closed = new Promise<void>((resolve) => server.server.close(() => resolve()));
    sink.drop();
    await closed;
  };
  sink.listen = () => new Promise<void>((resolve) => server.server.listen(sink.port, '127.0.0.1', () => resolve()));
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

function smtpError(reply: string): Error {
  const err = new Error(reply.replace(/^\d{3}\s*/, '')) as Error & { responseCode: number };
  err.responseCode = Number(reply.slice(0, 3));
  return err;
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


/**
 * A Handlebars renderer with a realistic email (compiled once, three passes per recipient),
 * standing in for the templates capability where it is not wired (benchmark baseline and
 * dispatcher alike use it, so the comparison is fair).
 */
export class HandlebarsRenderer extends MessageRenderer {
  private readonly subject: Handlebars.TemplateDelegate;
  private readonly html: Handlebars.TemplateDelegate;
  private readonly text: Handlebars.TemplateDelegate;

  constructor() {
    super();
    const hb = Handlebars.create();
    this.subject = hb.compile('{{name}}さん、{{account}}のレポート機能をまだお使いでないようです');
    const rows = Array.from({ length: 12 }, (_, i) => `<tr><td style="padding:8px 16px;font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#333">Tip ${i + 1}: {{name}}, try feature ${i + 1} in {{account}} — it saves time for teams like yours.</td></tr>`).join('\n');
    this.html = hb.compile(
      `<!doctype html><html><head><meta charset="utf-8"><title>{{subject}}</title></head><body style="margin:0;background:#f4f4f4">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center"><table width="600" style="background:#fff">
<tr><td style="padding:24px 16px;font-size:20px;font-weight:bold">{{name}}さん、こんにちは</td></tr>
<tr><td style="padding:8px 16px">{{account}} では過去30日で {{logins}} 回ログインがありました。</td></tr>
${rows}
<tr><td style="padding:16px"><a href="{{cta}}" style="background:#1a73e8;color:#fff;padding:12px 20px;text-decoration:none;border-radius:4px">レポートを作成する</a></td></tr>
<tr><td style="padding:16px;font-size:11px;color:#888">{{sender}} · 配信停止: <a href="{{unsubscribe}}">{{unsubscribe}}</a></td></tr>
</table></td></tr></table></body></html>`,
    );
    this.text = hb.compile(`{{name}}さん、こんにちは\n\n{{account}} では過去30日で {{logins}} 回ログインがありました。\n\nレポートを作成する: {{cta}}\n\n--\n{{sender}}\n配信停止: {{unsubscribe}}\n`);
  }

  async render(input: RenderInput, links: MessageLinks): Promise<RenderedEmail> {
    const c = input.context as Record<string, unknown>;
    const data = { name: c.name, account: c.account, logins: c.logins, cta: `https://app.example.com/reports/new?u=${input.contactId}`, unsubscribe: links.unsubscribeUrl, sender: 'Touchline Demo Co., Ltd.', subject: '' };
    const subject = this.subject(data);
    return { templateVersion: 'bench-1', subject, html: this.html({ ...data, subject }), text: this.text(data) };
  }
}
