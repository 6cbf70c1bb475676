/**
 * Who opened or clicked: a person, or a machine acting for the mailbox (privacy proxies that
 * prefetch every image, security gateways that follow every link). Machine events are kept
 * (they prove delivery and explain numbers) but flagged, so triggers, goals and health can
 * leave them out. Pure: no I/O, the caller passes everything, including "now".
 */
export type Classification =
  // opens
  | 'apple_mpp'
  | 'google_prefetch'
  | 'google_proxy'
  | 'yahoo_proxy'
  | 'prefetcher'
  // clicks
  | 'honeypot'
  | 'scanner_agent'
  | 'fast_click'
  | 'head_request'
  // both
  | 'no_user_agent'
  | 'human';

export interface Hit {
  kind: 'open' | 'click';
  method?: string;
  userAgent: string | undefined;
  /** The client address as seen (never stored: only its keyed hash is). */
  ip: string | undefined;
  /** When the message was handed to the mail server (null: not sent, e.g. a preview). */
  sentAt: Date | null;
  at: Date;
  honeypot?: boolean;
}

export interface ClassifyOptions {
  /** A click this soon after sending is a scanner's (people do not read that fast). */
  scannerWindowSeconds: number;
  /** A proxied open this soon after sending is the provider's prefetch, not the reader. */
  prefetchWindowSeconds: number;
}

export interface Verdict {
  machine: boolean;
  classification: Classification;
}

/** Link checkers, security gateways, chat/preview unfurlers and HTTP libraries. */
const SCANNER_AGENTS =
  /(bot\b|bot\/|crawler|spider|scanner|preview|barracuda|mimecast|proofpoint|ppops|zscaler|symantec|messagelabs|trend ?micro|fireeye|forcepoint|sophos|cisco|ironport|fortiguard|checkpoint|safelinks|safe ?links|microsoft office existence|ms-office|skypeuripreview|slackbot|facebookexternalhit|linkedinbot|twitterbot|whatsapp|googlebot|bingbot|headlesschrome|phantomjs|python-requests|python-urllib|aiohttp|go-http-client|okhttp|java\/|libwww|wget|curl\/|node-fetch|undici|axios|httpclient|apache-httpclient|postmanruntime)/i;

/** Known image prefetchers that are not tied to a reader's open. */
const PREFETCH_AGENTS = /(yahoo! slurp|outlook-ios-prefetch|feedfetcher|mailchimp-prefetch|mailcheck|emailpreview|litmus|email on acid)/i;

/**
 * Apple Mail Privacy Protection fetches every image through Apple's proxies with the bare
 * user agent "Mozilla/5.0", from Apple's 17.0.0.0/8 network, whether or not the mail is read.
 */
function isAppleMpp(ua: string, ip: string | undefined): boolean {
  if (ua === 'Mozilla/5.0') return true;
  const v4 = ip?.replace(/^::ffff:/, '');
  return !!v4 && /^17\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) && !/\b(iPhone|iPad|Macintosh).*(Safari|Mobile)\//.test(ua);
}

function secondsSinceSent(hit: Hit): number | null {
  return hit.sentAt ? (hit.at.getTime() - hit.sentAt.getTime()) / 1000 : null;
}

export function classify(hit: Hit, options: ClassifyOptions): Verdict {
  const ua = (hit.userAgent ?? '').trim();
  const since = secondsSinceSent(hit);
  const machine = (classification: Classification): Verdict => ({ machine: true, classification });
  if (hit.kind === 'click') {
    if (hit.honeypot) return machine('honeypot');
    if (hit.method === 'HEAD') return machine('head_request');
    if (!ua) return machine('no_user_agent');
    if (SCANNER_AGENTS.test(ua)) return machine('scanner_agent');
    if (since !== null && since < options.scannerWindowSeconds) return machine('fast_click');
    return { machine: false, classification: 'human' };
  }
  if (!ua) return machine('no_user_agent');
  if (isAppleMpp(ua, hit.ip)) return machine('apple_mpp');
  if (/GoogleImageProxy|ggpht\.com/i.test(ua)) {
    // Gmail fetches through its proxy when the reader opens; right after delivery it is a prefetch.
    return since !== null && since < options.prefetchWindowSeconds ? machine('google_prefetch') : { machine: false, classification: 'google_proxy' };
  }
  if (/YahooMailProxy/i.test(ua)) {
    return since !== null && since < options.prefetchWindowSeconds ? machine('prefetcher') : { machine: false, classification: 'yahoo_proxy' };
  }
  if (PREFETCH_AGENTS.test(ua) || SCANNER_AGENTS.test(ua)) return machine('prefetcher');
  return { machine: false, classification: 'human' };
}
