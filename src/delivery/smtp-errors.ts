/**
 * What an SMTP send failure means for the message. RFC 5321: 4yz is transient, 5yz
 * permanent; RFC 3463 enhanced codes refine it (5.1.x bad address, 5.7.x policy).
 *
 * - `outage`: the provider cannot be reached or refuses us as a client (connection, TLS,
 *   authentication, greeting): nothing about this recipient; pause sending, lose nothing.
 * - `temporary`: 4yz (421 throttling included): retry this message later with backoff.
 * - `permanent`: 5yz on the recipient: fail it and hard-bounce-suppress the address.
 * - `policy`: 5.7.x (blocked as spam, DMARC, relay denied): fail it and report it, but the
 *   address itself is fine, so no suppression.
 * - `rejected`: other 5yz (message too large, content): fail, no suppression.
 */
export type FailureKind = 'outage' | 'temporary' | 'permanent' | 'policy' | 'rejected';

export interface SendFailure {
  kind: FailureKind;
  /** SMTP reply code when there was one. */
  code?: number;
  /** Enhanced status code, e.g. 5.1.1. */
  status?: string;
  /** The server's reply line, or the error message. */
  response: string;
}

interface SmtpLikeError {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  rejectedErrors?: SmtpLikeError[];
}

const OUTAGE_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EAUTH', 'ENOAUTH', 'EOAUTH2', 'EREQUIRETLS', 'ECONNREFUSED', 'ECONNRESET', 'EPROXY']);

export function classifySendError(error: unknown): SendFailure {
  const err = (error ?? {}) as SmtpLikeError;
  // With one recipient, the RCPT TO reply is the one that counts.
  const rcpt = err.rejectedErrors?.[0];
  const code = rcpt?.responseCode ?? err.responseCode;
  const response = (rcpt?.response ?? err.response ?? err.message ?? String(error)).slice(0, 1000);
  const status = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(response)?.[0];
  if (!code) {
    // No reply at all: the connection itself failed.
    return { kind: OUTAGE_CODES.has(err.code ?? '') || !err.code ? 'outage' : 'temporary', response };
  }
  const command = (rcpt?.command ?? err.command ?? '').toUpperCase();
  // Replies to the session itself (greeting, EHLO, STARTTLS, AUTH) are about us as a client, not the recipient.
  const session = /^(CONN|EHLO|HELO|AUTH|STARTTLS|GREETING)/.test(command);
  if (code >= 400 && code < 500) {
    // 421 included: nodemailer reports it as a closed connection (ECONNECTION, "CONN") wherever
    // it came, and it is the server throttling us, so back off per message rather than pause.
    return { kind: 'temporary', code, status, response };
  }
  if (code >= 500 && code < 600) {
    if (code === 503) return { kind: 'temporary', code, status, response };
    if (session) return { kind: 'outage', code, status, response };
    if (status?.startsWith('5.7.') || (!status && /\b(spam|policy|blocked|blacklist|blocklist|dmarc|spf|reputation)\b/i.test(response))) {
      return { kind: 'policy', code, status, response };
    }
    const recipientProblem = status ? /^5\.(1\.\d+|2\.1|2\.2)$/.test(status) || status === '5.0.0' : [550, 551, 553].includes(code);
    const onRecipient = command === 'RCPT TO' || command === '' || command === 'DATA';
    if (recipientProblem && onRecipient) return { kind: 'permanent', code, status, response };
    if (!status && command === 'RCPT TO') return { kind: 'permanent', code, status, response };
    return { kind: 'rejected', code, status, response };
  }
  return { kind: 'temporary', code, status, response };
}

/**
 * Delay before retry number `attempt` (1 = first retry): exponential from `baseMs`, capped at
 * `maxMs`, with ±50 % jitter so that messages deferred together do not come back together.
 */
export function retryDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  return Math.round(exp * (0.5 + random()));
}
