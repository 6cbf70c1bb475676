import { createHmac } from 'node:crypto';
import type { TrackingKey } from '../config/secrets';
import { signToken } from '../tracking/tokens';

/**
 * Header building for outgoing mail (pure). The Message-ID is derived from the outbox id,
 * so a message sent again after a crash carries the same Message-ID and receivers can see
 * it is the same message.
 */
export function messageIdFor(id: string, domain: string, secret: string): string {
  // The MAC keeps ids from being guessable from the outside; not a security boundary.
  const tag = createHmac('sha256', secret).update(`mid:${id}`).digest('base64url').slice(0, 10).replace(/[-_]/g, 'x');
  return `<tl.${id}.${tag}@${domain}>`;
}

/** The header carrying our message id, for matching bounces and complaints back. */
export const MESSAGE_ID_HEADER = 'X-Touchline-Message-Id';

export function unsubscribeToken(keys: TrackingKey[], messageId: string, contactId: string): string {
  return signToken(keys, { k: 'u', m: messageId, r: contactId });
}

export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/u/${token}`;
}

export interface HeaderInput {
  id: string;
  category: 'marketing' | 'operational';
  unsubscribeUrl: string;
  unsubscribeMailto: string;
  token: string;
}

/** A header value nodemailer must write as is (no encoding, no folding inside a URL). */
export type PreparedHeader = { prepared: true; value: string };

export function buildHeaders(input: HeaderInput): Record<string, string | PreparedHeader> {
  const headers: Record<string, string | PreparedHeader> = { [MESSAGE_ID_HEADER]: input.id };
  if (input.category === 'marketing') {
    const mailto = `mailto:${input.unsubscribeMailto}?subject=${encodeURIComponent(`unsubscribe ${input.token}`)}`;
    // RFC 2369 + RFC 8058: the HTTPS URL first (one-click), mailto as the fallback.
    headers['List-Unsubscribe'] = { prepared: true, value: `<${input.unsubscribeUrl}>,\r\n <${mailto}>` };
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return headers;
}
