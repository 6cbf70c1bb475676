import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { requireScope } from '../auth/api-keys';
import { describeException } from '../common/exception.filter';
import { logRequest, mountInFront, RawListenerContext, writeJson } from '../common/raw-listener';
import { requestId } from '../common/request-id';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { httpDuration } from '../ops/metrics';
import { INGEST_PATHS, IngestRoute, ingestRoute } from './ingest-routes';
import { parseJsonBody } from './json-body';
import { IngestionService } from './ingestion.service';

/** The content types the app's JSON body parser takes, in UTF-8 (its default charset). */
const PLAIN_JSON = /^(?:application\/json|text\/plain)[ \t]*(?:;[ \t]*charset=(?:utf-8|"utf-8")[ \t]*)?$/i;
const DECIMAL = /^\d{1,10}$/;
const hasOwn = Object.prototype.hasOwnProperty;

export interface FastIngest {
  route: IngestRoute;
  /** The path without the query, as Express's `req.path` gives it. */
  path: string;
}

/**
 * The ingestion call this request is, when the raw listener serves it; null when it falls
 * through to Nest. Only the plain form is taken: POST to one of the exact Segment paths (any
 * query ignored, as Nest ignores it), a JSON or text/plain body in UTF-8 without content
 * encoding, framed by a Content-Length within the body limit. Everything else (gzip, other
 * charsets, chunked or oversize bodies, other spellings of the paths) goes to Nest, whose
 * body parser answers it as before (413 for an oversize body, 415 for a charset).
 */
export function fastIngest(req: IncomingMessage, limit: number): FastIngest | null {
  if (req.method !== 'POST') return null;
  const url = req.url;
  if (!url || !url.startsWith('/v1/')) return null;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!hasOwn.call(INGEST_PATHS, path)) return null;
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return null;
  const encoding = h['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return null;
  const type = h['content-type'];
  if (type === undefined || !PLAIN_JSON.test(type)) return null;
  const length = h['content-length'];
  if (length === undefined || !DECIMAL.test(length) || Number(length) > limit) return null;
  return { route: INGEST_PATHS[path], path };
}

export interface IngestionListenerDeps extends RawListenerContext {
  ingestion: IngestionService;
  config: Config;
}

/**
 * A request listener that serves Segment ingestion calls without the Nest/Express pipeline
 * (no router, body-parser, guards, interceptors or per-request child logger), and hands
 * every other request to `next`. What happens is what Nest does, in the same order and
 * through the same functions: the body read and parsed as the JSON body parser does
 * (json-body.ts), the API-key check (`requireScope`), the service call (`ingestRoute`, so a
 * 2xx is written only after commit), and failures answered by `describeException` (400 with
 * item paths, 401/403, 503 with Retry-After when the database is away).
 */
export function ingestionListener(deps: IngestionListenerDeps): RequestListener {
  const errors = new Logger('Exceptions');
  const limit = deps.config.ingest.maxBatchBytes;
  return (req, res) => {
    const hit = fastIngest(req, limit);
    if (!hit) {
      deps.next(req, res);
      return;
    }
    void serve(deps, errors, req, res, hit);
  };
}

async function serve(deps: IngestionListenerDeps, errors: Logger, req: IncomingMessage, res: ServerResponse, hit: FastIngest): Promise<void> {
  const started = performance.now();
  const id = requestId(req, res);
  const bytes = await readBody(req);
  if (!bytes) return; // the client went away before sending the whole body: nobody to answer
  try {
    const body = parseJsonBody(bytes);
    requireScope(deps.config.secrets.apiKeys, req.headers, 'ingest');
    writeJson(res, 200, await ingestRoute(deps.ingestion, hit.route, body));
  } catch (err) {
    const answer = describeException(err, { path: hit.path, contentType: req.headers['content-type'] }, errors);
    if (!res.headersSent) writeJson(res, answer.status, answer.body, answer.headers);
  }
  const seconds = (performance.now() - started) / 1000;
  httpDuration.observe({ method: 'POST', route: hit.path, status: res.statusCode }, seconds);
  logRequest(req, res, id, hit.path, seconds);
}

/** The whole body (its length is the Content-Length, which Node enforces), or null if the request was aborted. */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', () => resolve(null));
    req.on('close', () => resolve(null));
  });
}

/** Puts the ingestion listener in front of the Nest application's HTTP server (call before `listen`). */
export function mountIngestionListener(app: NestExpressApplication): void {
  mountInFront(app, (ctx) => ingestionListener({ ingestion: app.get(IngestionService), config: app.get<Config>(CONFIG), ...ctx }));
}
