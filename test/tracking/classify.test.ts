import { classify, Hit } from '../../src/tracking/classify';

const opts = { scannerWindowSeconds: 10, prefetchWindowSeconds: 30 };
const sentAt = new Date('2026-11-20T03:00:00Z');
const later = (s: number) => new Date(sentAt.getTime() + s * 1000);
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IPHONE_MAIL = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const GMAIL_PROXY = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';

const open = (o: Partial<Hit>): Hit => ({ kind: 'open', userAgent: CHROME, ip: '203.0.113.5', sentAt, at: later(3600), ...o });
const click = (o: Partial<Hit>): Hit => ({ kind: 'click', method: 'GET', userAgent: CHROME, ip: '203.0.113.5', sentAt, at: later(3600), ...o });

describe('classify (machine opens and bot clicks)', () => {
  it.each([
    ['a person in a browser an hour later', open({}), false, 'human'],
    ['a person in iPhone Mail', open({ userAgent: IPHONE_MAIL }), false, 'human'],
    ['Apple Mail Privacy Protection (bare Mozilla/5.0)', open({ userAgent: 'Mozilla/5.0', ip: '17.58.101.2' }), true, 'apple_mpp'],
    ['Apple MPP from an Apple proxy address', open({ userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)', ip: '17.123.4.5' }), true, 'apple_mpp'],
    ['Apple MPP over IPv4-mapped IPv6', open({ userAgent: 'Mozilla/5.0', ip: '::ffff:17.1.2.3' }), true, 'apple_mpp'],
    ['Gmail image proxy prefetch right after delivery', open({ userAgent: GMAIL_PROXY, at: later(4) }), true, 'google_prefetch'],
    ['Gmail image proxy when the reader opens later', open({ userAgent: GMAIL_PROXY, at: later(7200) }), false, 'google_proxy'],
    ['Yahoo proxy prefetch', open({ userAgent: 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', at: later(2) }), true, 'prefetcher'],
    ['a security gateway fetching images', open({ userAgent: 'Mozilla/5.0 (compatible; Barracuda Sentinel)' }), true, 'prefetcher'],
    ['no user agent', open({ userAgent: undefined }), true, 'no_user_agent'],
  ])('open: %s', (_name, hit, machine, classification) => {
    expect(classify(hit, opts)).toEqual({ machine, classification });
  });

  it.each([
    ['a person an hour later', click({}), false, 'human'],
    ['a person eleven seconds after sending', click({ at: later(11) }), false, 'human'],
    ['a scanner within seconds of delivery', click({ at: later(2) }), true, 'fast_click'],
    ['the hidden honeypot link (even from a browser, even late)', click({ honeypot: true, at: later(86400) }), true, 'honeypot'],
    ['Microsoft Safe Links / Office preview', click({ userAgent: 'Mozilla/4.0 (compatible; ms-office; MSOffice 16)' }), true, 'scanner_agent'],
    ['Proofpoint URL defense', click({ userAgent: 'Proofpoint URL Defense' }), true, 'scanner_agent'],
    ['Mimecast', click({ userAgent: 'Mimecast Link Scanner' }), true, 'scanner_agent'],
    ['a headless browser', click({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36' }), true, 'scanner_agent'],
    ['curl', click({ userAgent: 'curl/8.5.0' }), true, 'scanner_agent'],
    ['python requests', click({ userAgent: 'python-requests/2.32.3' }), true, 'scanner_agent'],
    ['Slack unfurl', click({ userAgent: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' }), true, 'scanner_agent'],
    ['a HEAD link check', click({ method: 'HEAD' }), true, 'head_request'],
    ['no user agent', click({ userAgent: '' }), true, 'no_user_agent'],
    ['an unsent message (preview) is not a fast click', click({ sentAt: null, at: later(1) }), false, 'human'],
  ])('click: %s', (_name, hit, machine, classification) => {
    expect(classify(hit, opts)).toEqual({ machine, classification });
  });

  it('the scanner window is configurable', () => {
    expect(classify(click({ at: later(20) }), { ...opts, scannerWindowSeconds: 30 }).classification).toBe('fast_click');
    expect(classify(click({ at: later(2) }), { ...opts, scannerWindowSeconds: 0 }).classification).toBe('human');
  });
});
