import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from '../database/db-errors';
import { DomainError, DomainErrorCode, Problem } from './errors';
import { loggablePath } from './loggable-path';

const STATUS: Record<DomainErrorCode, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  length?: number;
  message: string;
}

/** What `describeException` needs of the request. */
export interface FailedRequest {
  /** The path without the query (Express's `req.path`). */
  path: string;
  contentType: string | undefined;
}

export interface FailureAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * The one place where failures become HTTP: domain errors map to their status, body-parser
 * errors to 400/413 with a readable message, an unreachable database to 503 (Retry-After),
 * anything else to 500 with an error id in the log. Used by the Nest filter below and by the
 * raw ingestion listener, so both answer a failure alike.
 */
export function describeException(exception: unknown, req: FailedRequest, logger: Logger): FailureAnswer {
  const { status, body } = describe(exception, req, logger);
  const headers: Record<string, string> = {};
  if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="touchline", Bearer';
  if (status === 503) headers['Retry-After'] = '5';
  return { status, body: { error: body }, headers };
}

@Catch()
export class ExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const { status, body, headers } = describeException(exception, { path: req.path, contentType: req.headers['content-type'] }, this.logger);
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.status(status).json(body);
  }
}

function describe(exception: unknown, req: FailedRequest, logger: Logger): { status: number; body: Record<string, unknown> } {
  if (exception instanceof DomainError) {
    const body: Record<string, unknown> = { code: exception.code, message: exception.message };
    if (exception.problems.length) body.problems = exception.problems satisfies Problem[];
    return { status: STATUS[exception.code], body };
  }
  const bp = exception as BodyParserError;
  if (bp && typeof bp === 'object' && typeof bp.type === 'string' && bp.type.startsWith('entity.')) {
    if (bp.type === 'entity.too.large') {
      return {
        status: 413,
        body: { code: 'too_large', message: `request body of ${bp.length ?? '?'} bytes exceeds the ${bp.limit} byte limit for ${req.path}` },
      };
    }
    if (bp.type === 'entity.parse.failed') {
      return { status: 400, body: { code: 'invalid', message: `request body is not valid JSON: ${bp.message}` } };
    }
    return { status: bp.status ?? 400, body: { code: 'invalid', message: bp.message } };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? exception.message);
    // Nest turns body-parser's SyntaxError into a bare 400: say what it was.
    if (status === 400 && /json/i.test(req.contentType ?? '')) {
      return { status, body: { code: 'invalid', message: `request body is not valid JSON: ${String(message)}` } };
    }
    return { status, body: { code: status === 404 ? 'not_found' : 'http_' + status, message: Array.isArray(message) ? message.join('; ') : String(message) } };
  }
  if (isDatabaseUnavailable(exception)) {
    // Nothing was acknowledged: the client should send the same request again (messageIds make that safe).
    logger.warn({ path: loggablePath(req.path), err: (exception as Error).message }, 'database unavailable: answered 503');
    return { status: 503, body: { code: 'unavailable', message: 'the database is unavailable (restarting or unreachable); nothing was stored, retry the request' } };
  }
  const errorId = randomUUID();
  logger.error({ errorId, err: exception, path: loggablePath(req.path) }, `unhandled error ${errorId}`);
  return { status: 500, body: { code: 'internal', message: 'internal error; report this error id', errorId } };
}
