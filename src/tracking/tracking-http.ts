import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HitRequest, TrackingResponse } from './tracking.service';

/**
 * The HTTP edge of tracking, shared by the Nest controller and the raw listener in front of
 * Nest (tracking-listener.ts): both read a hit and write the answer through these functions,
 * so the two paths cannot drift apart in what they see or in status, headers and body.
 */

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** The request facts tracking uses; `ip` is the client address as Express resolves it (trust proxy). */
export function hitRequest(req: IncomingMessage, token: string, ip: string | undefined): HitRequest {
  return {
    token,
    method: req.method ?? 'GET',
    ip,
    userAgent: header(req, 'user-agent'),
    acceptLanguage: header(req, 'accept-language'),
    origin: header(req, 'origin'),
    fetchSite: header(req, 'sec-fetch-site'),
  };
}

/** 1×1 transparent GIF (43 bytes). */
export const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const PAGE_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Robots-Tag': 'noindex, nofollow',
};

// Never cached anywhere, so every open reaches us.
const PIXEL_HEADERS: Record<string, string> = {
  'Content-Type': 'image/gif',
  'Content-Length': String(PIXEL.length),
  'Cache-Control': 'no-store, no-cache, must-revalidate, private, max-age=0',
  Pragma: 'no-cache',
  Expires: '0',
};

/** Writes a tracking answer with Node's own response API; HEAD gets the same headers and no body (Node drops it). */
export function writeTrackingResponse(res: ServerResponse, r: TrackingResponse): void {
  if (r.type === 'gif') {
    for (const name in PIXEL_HEADERS) res.setHeader(name, PIXEL_HEADERS[name]);
    res.statusCode = 200;
    res.end(PIXEL);
    return;
  }
  if (r.type === 'redirect') {
    // no-referrer: the target site must not learn the tracking URL (it carries the token).
    res.setHeader('Location', r.location);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.statusCode = 302;
    res.end();
    return;
  }
  if ('retryAfter' in r && r.retryAfter) res.setHeader('Retry-After', String(r.retryAfter));
  for (const name in PAGE_HEADERS) res.setHeader(name, PAGE_HEADERS[name]);
  res.setHeader('Content-Type', r.type === 'html' ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(r.body)));
  res.statusCode = r.status;
  res.end(r.body);
}
