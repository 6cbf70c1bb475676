import { ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, SMTPServerAddress } from 'smtp-server';
import { Clock } from '../../src/common/clock';
import type { Config } from '../../src/config/config';
import { DispatchRepository } from '../../src/delivery/dispatch.repository';
import { Dispatcher } from '../../src/delivery/dispatcher';
import { MailTransport, SmtpTransport } from '../../src/delivery/mail-transport';
import { MessageLinks, MessageRenderer, RenderedEmail, RenderInput } from '../../src/delivery/message-renderer';
import { RateLimiter } from '../../src/delivery/rate-limiter';
import { RateRepository } from '../../src/delivery/rate.repository';
import type { TestApp } from '../support/app';

export interface Received {
  to: string;
  raw: string;
  mail: ParsedMail;
}

export interface SmtpSink {
  port: number;
  url: string;
  received: Received[];
  /** Decide the RCPT TO reply per address: return an SMTP error line such as "451 4.3.0 try later", or null to accept. */
  rcpt: (address: string) => string | null;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) that parses everything it accepts with mailparser. */
export async function startSmtpSink(parse = true): Promise<SmtpSink> {
  const sink: SmtpSink = { port: 0, url: '', received: [], rcpt: () => null, close: async () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const reply = sink.rcpt(address.address);
      if (!reply) return callback();
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
        callback();
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

/** A dispatcher built from the app's parts, with the test renderer and (by default) SMTP to the sink. */
export function makeDispatcher(t: TestApp, renderer: MessageRenderer, options: { transport?: MailTransport; config?: Config; clock?: Clock } = {}) {
  const config = options.config ?? t.config;
  const transport = options.transport ?? new SmtpTransport(config.smtp);
  const dispatcher = new Dispatcher(t.app.get(DispatchRepository), new RateLimiter(t.app.get(RateRepository), config), transport, renderer, options.clock ?? t.clock, config);
  return { dispatcher, transport };
}

/** Runs ticks until one claims nothing (or `max` rounds). */
export async function drain(dispatcher: Dispatcher, max = 50) {
  const totals = { claimed: 0, sent: 0, retried: 0, failed: 0, other: 0 };
  for (let i = 0; i < max; i++) {
    const r = await dispatcher.tick();
    if (!r.claimed) break;
    for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r[k];
  }
  return totals;
}

let seq = 0;

/** An account and contacts straight in the database. */
export async function seedContacts(t: TestApp, n: number, over: { timezone?: string | null; accountTz?: string | null; consent?: boolean | null } = {}) {
  const at = t.clock.now();
  const [acc] = await t.db.query<{ id: string }>(
    `INSERT INTO accounts (external_id, name, timezone, created_at, updated_at) VALUES ($1, 'Acme', $2, $3, $3) RETURNING id::text`,
    [`acc-${++seq}-${Math.random()}`, over.accountTz ?? null, at],
  );
  const rows = await t.db.query<{ id: string; email: string }>(
    `INSERT INTO contacts (external_id, account_id, email, name, timezone, consent_marketing, created_at, updated_at)
     SELECT 'u-' || $1 || '-' || g, $2::bigint, 'user' || $1 || '-' || g || '@example.com', 'User ' || g, $3, $4, $5, $5
       FROM generate_series(1, $6::int) g RETURNING id::text, email`,
    [`${++seq}`, acc.id, over.timezone === undefined ? 'Asia/Tokyo' : over.timezone, over.consent === undefined ? true : over.consent, at, n],
  );
  return { accountId: acc.id, contacts: rows };
}
