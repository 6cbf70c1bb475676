import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { describeException } from '../common/exception.filter';
import { logRequest, mountInFront, writeJson, RawListenerContext } from '../common/raw-listener';
import { requestId } from '../common/request-id';
import { httpDuration } from '../ops/metrics';
import { hitRequest, writeTrackingResponse } from './tracking-http';
import { TrackingResponse, TrackingService } from './tracking.service';

/** The token alphabet (base64url parts joined by dots); anything else is left to Nest. */
const TOKEN = /^[A-Za-z0-9_.-]+$/;
/** The routes as Express names them in the request-duration metric. */
const ROUTES = { o: '/t/o/:token', c: '/t/c/:token' } as const;

export interface FastHit {
  kind: 'o' | 'c';
  token: string;
}

/**
 * The open pixel or click this request is, when the raw listener serves it; null when it
 * falls through to Nest. Only the plain form is taken: GET or HEAD on `/t/o/<token>` or
 * `/t/c/<token>` (any query ignored, as Nest ignores it), a token of the token alphabet
 * (nothing percent-encoded), and no request body. Everything else, including odd spellings
 * of these paths, goes to Nest, which answers it as before.
 */
export function fastHit(req: IncomingMessage): FastHit | null {
  if (req.method !== 'GET' && req.method !== 'HEAD') return null;
  const url = req.url;
  if (!url || url.length < 6 || !url.startsWith('/t/') || url[4] !== '/') return null;
  const kind = url[3];
  if (kind !== 'o' && kind !== 'c') return null;
  const q = url.indexOf('?', 5);
  const token = q < 0 ? url.slice(5) : url.slice(5, q);
  if (!TOKEN.test(token)) return null;
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) return null;
  return { kind, token };
}

export interface TrackingListenerDeps extends RawListenerContext {
  tracking: TrackingService;
}

/**
 * A request listener that serves opens and clicks without the Nest/Express pipeline (no
 * router, guards, pipes, interceptors or per-request child logger), and hands every other
 * request to `next`. The work is TrackingService's, unchanged: rate limit, token
 * verification, classification, and the event committed before the answer is written
 * (tracking-http.ts writes the same answer as the controller).
 */
export function trackingListener(deps: TrackingListenerDeps): RequestListener {
  const errors = new Logger('Exceptions');
  return (req, res) => {
    const hit = fastHit(req);
    if (!hit) {
      deps.next(req, res);
      return;
    }
    void serve(deps, errors, req, res, hit);
  };
}

async function serve(deps: TrackingListenerDeps, errors: Logger, req: IncomingMessage, res: ServerResponse, { kind, token }: FastHit): Promise<void> {
  const started = performance.now();
  const id = requestId(req, res);
  try {
    const h = hitRequest(req, token, deps.clientIp(req));
    const answer: TrackingResponse = kind === 'o' ? await deps.tracking.open(h) : await deps.tracking.click(h);
    writeTrackingResponse(res, answer);
  } catch (err) {
    // As the exception filter answers: 503 with Retry-After while the database is away, else
    // a 500 with an error id (the logged path leaves the token out).
    const answer = describeException(err, { path: `/t/${kind}/…`, contentType: undefined }, errors);
    if (!res.headersSent) writeJson(res, answer.status, answer.body, answer.headers);
  }
  const seconds = (performance.now() - started) / 1000;
  httpDuration.observe({ method: req.method, route: ROUTES[kind], status: res.statusCode }, seconds);
  logRequest(req, res, id, '/t/…', seconds);
}

/**
 * Puts the tracking listener in front of the Nest application's HTTP server (call before
 * `listen`).
 */
export function mountTrackingListener(app: NestExpressApplication): void {
  mountInFront(app, (ctx) => trackingListener({ tracking: app.get(TrackingService), ...ctx }));
}
