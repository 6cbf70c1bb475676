import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { DomainError } from '../common/errors';
import { html } from './html';
import { chooseLang, translator } from './i18n';
import { ConsoleCsrfRejected, ConsoleLoginRequired } from './console-session.guard';
import { CONSOLE_HEADERS } from './console-page';
import { LANG_COOKIE, parseCookies } from './session';

/**
 * Console failures as pages, not JSON: no session → the login page (remembering where to
 * come back), a bad CSRF token → 403, not found → 404, bad input → 400, anything else → 500
 * with an error id in the log.
 */
@Catch()
export class ConsoleExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Console');

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(CONSOLE_HEADERS)) res.setHeader(k, v);
    if (exception instanceof ConsoleLoginRequired) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        const next = req.originalUrl.startsWith('/console') ? req.originalUrl : '/console';
        res.redirect(303, `/console/login?next=${encodeURIComponent(next)}${exception.reason === 'missing' ? '' : '&expired=1'}`);
      } else {
        res.status(401).type('html').send(this.page(req, 401, 'Sign in required / ログインが必要です', ''));
      }
      return;
    }
    const t = translator(chooseLang(parseCookies(req.headers.cookie)[LANG_COOKIE], req.headers['accept-language']));
    if (exception instanceof ConsoleCsrfRejected) {
      res.status(403).type('html').send(this.page(req, 403, t('csrf.rejected'), ''));
      return;
    }
    if (exception instanceof DomainError) {
      const status = exception.code === 'not_found' ? 404 : exception.code === 'conflict' ? 409 : exception.code === 'rate_limited' ? 429 : 400;
      const detail = exception.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
      res.status(status).type('html').send(this.page(req, status, exception.message, detail));
      return;
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      res.status(exception.getStatus()).type('html').send(this.page(req, exception.getStatus(), exception.message, ''));
      return;
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, err: exception, path: req.path }, `console error ${errorId}`);
    res.status(500).type('html').send(this.page(req, 500, 'Internal error', `error id ${errorId}`));
  }

  private page(req: Request, status: number, message: string, detail: string): string {
    return html`<!doctype html><html><head><meta charset="utf-8"><title>${status}</title><link rel="stylesheet" href="/console/assets/console.css"></head>
<body><main><h1>${status}</h1><div class="error-box" id="error">${message}</div>${detail ? html`<pre>${detail}</pre>` : ''}
<p><a href="/console/accounts">Touchline console</a></p></main></body></html>`.value;
  }
}
