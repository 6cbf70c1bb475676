import { z } from 'zod';
import { InvalidInput } from '../common/errors';
import { zodProblems } from '../common/zod-problems';

/**
 * Mail sent to the `mailto:` of List-Unsubscribe, as the providers' inbound-parse webhooks
 * report it (the generic form: `{"to", "from", "subject"}`; `to` may list several addresses,
 * "Name <addr>" or bare). The mailto is `<DELIVERY_UNSUBSCRIBE_MAILTO>?subject=unsubscribe
 * <token>`: the request counts only when it went to that mailbox and its subject carries
 * the signed token (mail clients may prefix "Re:" and the like). Pure; the service verifies
 * the token.
 */
export const inboundBody = z.object({
  to: z.union([z.string().min(1).max(4000), z.array(z.string().min(1).max(998)).min(1).max(100)]),
  from: z.string().max(998).optional(),
  subject: z.string().max(4000),
});

export interface InboundUnsubscribe {
  token: string;
  from: string | null;
}

const TOKEN = /(?:^|[\s:])unsubscribe\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i;

/** The addresses of a To value: "A <a@x>, b@y" → ["a@x", "b@y"] (lower case). */
export function addressesOf(to: string | string[]): string[] {
  const text = Array.isArray(to) ? to.join(',') : to;
  const found = text.match(/[^\s<>,;"']+@[^\s<>,;"']+/g) ?? [];
  return found.map((a) => a.toLowerCase());
}

/** Throws InvalidInput (400) unless the mail is an unsubscribe request to our mailbox with a token. */
export function parseInboundUnsubscribe(body: unknown, mailbox: string): InboundUnsubscribe {
  const r = inboundBody.safeParse(body);
  if (!r.success) throw new InvalidInput('expected {"to", "from", "subject"} of the inbound mail', zodProblems(r.error));
  if (!addressesOf(r.data.to).includes(mailbox.toLowerCase())) {
    throw new InvalidInput(`not addressed to the unsubscribe mailbox ${mailbox}`, [{ path: 'to', message: `expected ${mailbox} among the recipients` }]);
  }
  const m = TOKEN.exec(r.data.subject.trim());
  if (!m) throw new InvalidInput('the subject carries no unsubscribe token', [{ path: 'subject', message: 'expected "unsubscribe <token>" as in the List-Unsubscribe mailto' }]);
  return { token: m[1], from: r.data.from ? (addressesOf(r.data.from)[0] ?? null) : null };
}
