import type { NestExpressApplication } from '@nestjs/platform-express';
import { PinoLogger } from 'nestjs-pino';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';

/**
 * Shared plumbing of the raw listeners that serve hot routes in front of the Nest pipeline
 * (tracking hits, ingestion): mounting in front of Express, the access log line and the
 * JSON answer. A raw listener serves the plain form of its routes and hands every other
 * request to `next` (Nest), which answers it as before.
 */
export interface RawListenerContext {
  /** The client address as Express resolves it (its `trust proxy` setting). */
  clientIp(req: IncomingMessage): string | undefined;
  /** Everything the raw listener does not serve: Nest (the Express app). */
  next: RequestListener;
}

/**
 * The line pino-http writes for a request through Nest, with the same request id and `url`
 * (already made fit for logs by the caller), written only when its level is on (no child
 * logger per request). Like pino-http: `error` ("request errored") from 500 up, else `info`.
 */
export function logRequest(req: IncomingMessage, res: ServerResponse, id: string, url: string, seconds: number): void {
  const root = PinoLogger.root;
  const level = res.statusCode >= 500 ? 'error' : 'info';
  if (!root || !root.isLevelEnabled(level)) return;
  root[level]({ req: { id, method: req.method, url }, res: { statusCode: res.statusCode }, responseTime: Math.round(seconds * 1000) }, level === 'error' ? 'request errored' : 'request completed');
}

/** A JSON answer as Express's `res.status(s).json(body)` writes it (one write, no ETag). */
export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function getter(proto: object, name: string): (this: unknown) => unknown {
  for (let p: object | null = proto; p; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d?.get) return d.get;
  }
  throw new Error(`raw listener: Express request has no "${name}" getter`);
}

/**
 * Puts a raw listener in front of the Nest application's HTTP server (call before `listen`;
 * several can be stacked, each in front of the previous). The client address comes from
 * Express's own `req.ip` getter, so `trust proxy` applies exactly as on routes served by Nest.
 */
export function mountInFront(app: NestExpressApplication, build: (ctx: RawListenerContext) => RequestListener): void {
  const server = app.getHttpServer() as Server;
  const express = app.getHttpAdapter().getInstance() as { request: object };
  const ip = getter(express.request, 'ip');
  const clientIp = (req: IncomingMessage) => (ip.call({ app: express, headers: req.headers, socket: req.socket }) as string | undefined) ?? req.socket.remoteAddress;
  const previous = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const next: RequestListener = (req, res) => {
    for (const listener of previous) listener(req, res);
  };
  server.on('request', build({ clientIp, next }));
}
