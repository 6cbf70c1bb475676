import * as fs from 'node:fs';
import * as path from 'node:path';
import * as nodemailer from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import type { Config } from '../config/config';
import { composeMime } from './mime';

/** One composed email, ready for a transport. */
export interface OutgoingMail {
  /** Outbox message id (names the .eml file). */
  id: string;
  from: string;
  to: string;
  /** Envelope sender (Return-Path); defaults to `from`'s address. */
  envelopeFrom?: string;
  subject: string;
  html: string;
  text: string;
  messageId: string;
  headers: Record<string, string>;
}

export interface SendReceipt {
  /** The server's final reply (e.g. `250 2.0.0 OK queued as …`), or where the file went. */
  response: string;
}

/** An email composed ahead of its send (`MailTransport.compose`): the bytes are fixed, only the transfer remains. */
export class ComposedMail {
  constructor(
    readonly id: string,
    readonly message: nodemailer.SendMailOptions,
  ) {}
}

/**
 * Where mail goes. Injectable so the dispatcher does not care whether it talks SMTP or
 * writes files. `send` rejects with the transport's error; the dispatcher classifies it.
 */
export abstract class MailTransport {
  abstract readonly kind: 'smtp' | 'file';
  /** Sends a mail, composing it first unless it was composed ahead. */
  abstract send(mail: OutgoingMail | ComposedMail): Promise<SendReceipt>;

  /**
   * Composes a mail ahead of its send (the dispatcher does it for the next group while it
   * waits for a commit). Throws what composing at send time would reject with.
   */
  compose(mail: OutgoingMail): ComposedMail {
    return new ComposedMail(mail.id, nodemailerMessage(mail));
  }
  /** Resolves when the provider is reachable (used to end an outage pause). */
  abstract verify(): Promise<void>;
  abstract close(): Promise<void>;
}

/**
 * The nodemailer message for one email (every transport, and the deliver benchmark's bare
 * baseline, send through this): the message composed whole by `composeMime()` (text parts
 * base64 in UTF-8, headers by nodemailer's MimeNode) and handed to nodemailer as `raw` with
 * its envelope, so nodemailer only transfers it (and signs it, with DKIM configured).
 */
export function nodemailerMessage(mail: OutgoingMail): nodemailer.SendMailOptions {
  const from = addressparser(mail.from, { flatten: true })[0]?.address;
  return {
    raw: composeMime(mail),
    messageId: mail.messageId,
    envelope: { from: mail.envelopeFrom ?? from, to: mail.to },
  };
}

function messageOf(mail: OutgoingMail | ComposedMail): nodemailer.SendMailOptions {
  return mail instanceof ComposedMail ? mail.message : nodemailerMessage(mail);
}

/** Pooled SMTP (SMTP_URL): connections are reused, each carries up to SMTP_POOL_MESSAGES. */
export class SmtpTransport extends MailTransport {
  readonly kind = 'smtp' as const;
  private readonly transporter: nodemailer.Transporter;

  constructor(smtp: Config['smtp']) {
    super();
    this.transporter = nodemailer.createTransport({
      url: smtp.url,
      pool: true,
      maxConnections: smtp.pool.maxConnections,
      maxMessages: smtp.pool.maxMessages,
      requireTLS: smtp.tls.require,
      tls: { rejectUnauthorized: smtp.tls.rejectUnauthorized },
      connectionTimeout: smtp.connectionTimeoutMs,
      greetingTimeout: smtp.connectionTimeoutMs,
      socketTimeout: smtp.socketTimeoutMs,
      dkim: smtp.dkim,
      // The dispatcher owns retries; nodemailer must not retry or log on its own.
      logger: false,
    } as nodemailer.TransportOptions);
  }

  async send(mail: OutgoingMail | ComposedMail): Promise<SendReceipt> {
    const info = await this.transporter.sendMail(messageOf(mail));
    return { response: String(info.response ?? '') };
  }

  async verify(): Promise<void> {
    await this.transporter.verify();
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}

/**
 * No SMTP configured: each message becomes `<MAIL_DIR>/<id>.eml` (the default for
 * `npm start`), written whole to a temp name first so a reader never sees half a file.
 */
export class FileTransport extends MailTransport {
  readonly kind = 'file' as const;
  private readonly transporter: nodemailer.Transporter;

  constructor(
    private readonly dir: string,
    dkim?: Config['smtp']['dkim'],
  ) {
    super();
    this.transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', dkim } as nodemailer.TransportOptions);
    fs.mkdirSync(dir, { recursive: true });
  }

  async send(mail: OutgoingMail | ComposedMail): Promise<SendReceipt> {
    const info = (await this.transporter.sendMail(messageOf(mail))) as { message: Buffer };
    const file = path.join(this.dir, `${mail.id}.eml`);
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, info.message);
    await fs.promises.rename(tmp, file);
    return { response: `250 written to ${file}` };
  }

  async verify(): Promise<void> {
    await fs.promises.access(this.dir, fs.constants.W_OK);
  }

  async close(): Promise<void> {
    // nothing held open
  }
}

export function createMailTransport(config: Config): MailTransport {
  return config.smtp.url ? new SmtpTransport(config.smtp) : new FileTransport(config.smtp.mailDir, config.smtp.dkim);
}
