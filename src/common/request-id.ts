import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The id of a request in logs and in the `x-request-id` response header: the caller's own
 * id when it is a plain token, else a new UUID. Used by pino-http for requests through Nest
 * and by the raw tracking listener, so both paths log and answer the same way.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}
