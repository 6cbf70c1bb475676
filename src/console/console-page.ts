import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { SafeHtml } from './html';
import { chooseLang, translator } from './i18n';
import { ConsoleRequest } from './console-session.guard';
import { csrfToken, LANG_COOKIE, parseCookies } from './session';
import type { PageContext } from './views/layout';

/** Security headers of every console response: no framing, no caching, nothing from other origins. */
export const CONSOLE_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  // Inline style attributes draw bar widths; no inline script is ever emitted.
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
};

/** Builds the per-request page context and sends rendered pages (with their server time). */
@Injectable()
export class ConsolePages {
  constructor(@Inject(CONFIG) private readonly config: Config) {}

  context(req: Request): PageContext {
    const cookies = parseCookies(req.headers.cookie);
    const lang = chooseLang(cookies[LANG_COOKIE], req.headers['accept-language']);
    const session = (req as ConsoleRequest).consoleSession;
    return {
      t: translator(lang),
      lang,
      csrf: session ? csrfToken(session, this.config.secrets.sessionSecret) : '',
      user: session ? { role: session.role, name: session.name } : null,
      here: req.originalUrl,
      startedAt: (req as Request & { consoleStartedAt?: number }).consoleStartedAt ?? performance.now(),
    };
  }

  send(res: Response, ctx: PageContext, page: SafeHtml, status = 200): void {
    for (const [k, v] of Object.entries(CONSOLE_HEADERS)) res.setHeader(k, v);
    res.setHeader('Server-Timing', `app;dur=${(performance.now() - ctx.startedAt).toFixed(1)}`);
    res.status(status).type('html').send(page.value);
  }
}
