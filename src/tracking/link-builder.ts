import type { TrackingKey } from '../config/secrets';
import { signToken, TokenPayload } from './tokens';

/**
 * The links an email needs, as the templates' render helpers call them. Structurally the
 * templates module's `LinkBuilder`; declared here too so tracking does not depend on it.
 */
export interface TrackingLinks {
  track(url: string, label?: string): string;
  unsubscribe(): string;
  preferences(): string;
  survey(kind: 'nps' | 'csat', score: number): string;
  openPixel(): string;
}

export const SURVEY_RANGES = { nps: [0, 10], csat: [1, 5] } as const;

/**
 * Signed links for one message to one recipient. Every token binds the message id and the
 * recipient's contact id; a click token also binds the target URL, so the signature itself
 * proves that this URL was put into this message by us (only the renderer signs). Paths:
 * `/t/o/…` open pixel, `/t/c/…` click, `/t/p/…` preferences, `/t/s/…` survey answer,
 * `/u/…` unsubscribe (served by delivery: GET confirms, POST is RFC 8058 one-click).
 */
export class SignedLinkBuilder implements TrackingLinks {
  constructor(
    private readonly keys: TrackingKey[],
    private readonly publicUrl: string,
    readonly messageId: string | number,
    readonly contactId: string | number,
  ) {}

  private token(payload: Omit<TokenPayload, 'm' | 'r'>): string {
    return signToken(this.keys, { ...payload, m: String(this.messageId), r: String(this.contactId) } as TokenPayload);
  }

  /**
   * A tracked link for absolute http(s) URLs. Anything else (mailto:, tel:, a relative or
   * malformed URL) is returned untouched: it never goes through our redirect, so it cannot
   * make it an open redirect, and a render never fails at send time because of a link.
   */
  track(url: string, label?: string): string {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return url;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return url;
    const payload: Omit<TokenPayload, 'm' | 'r'> = { k: 'c', u: parsed.href };
    if (label) payload.l = label.slice(0, 60);
    return `${this.publicUrl}/t/c/${this.token(payload)}`;
  }

  /**
   * A link only machines follow: the layout hides it from people (display:none, no text),
   * so a hit on it marks the scanner, and other clicks from the same address on this message.
   */
  honeypot(): string {
    return `${this.publicUrl}/t/c/${this.token({ k: 'c', u: `${this.publicUrl}/`, h: 1 })}`;
  }

  unsubscribe(): string {
    return `${this.publicUrl}/u/${this.token({ k: 'u' })}`;
  }

  preferences(): string {
    return `${this.publicUrl}/t/p/${this.token({ k: 'p' })}`;
  }

  survey(kind: 'nps' | 'csat', score: number): string {
    const [lo, hi] = SURVEY_RANGES[kind] ?? [];
    if (lo === undefined || !Number.isInteger(score) || score < lo || score > hi) throw new Error(`survey score for ${kind} must be a whole number ${lo}..${hi} (got ${score})`);
    return `${this.publicUrl}/t/s/${this.token({ k: 's', q: kind, v: score })}`;
  }

  openPixel(): string {
    return `${this.publicUrl}/t/o/${this.token({ k: 'o' })}`;
  }
}

/** Makes the builder for a message; injected where emails are rendered (delivery, previews). */
export class LinkBuilderFactory {
  constructor(
    private readonly keys: TrackingKey[],
    private readonly publicUrl: string,
  ) {}

  forMessage(messageId: string | number, contactId: string | number): SignedLinkBuilder {
    return new SignedLinkBuilder(this.keys, this.publicUrl, messageId, contactId);
  }
}
