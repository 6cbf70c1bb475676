import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Clock } from '../common/clock';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { csrfValid, decodeSession, parseCookies, Session, SESSION_COOKIE } from './session';

/** Thrown when a console page is opened without a valid session: the filter redirects to login. */
export class ConsoleLoginRequired extends Error {
  constructor(readonly reason: string) {
    super(`console login required (${reason})`);
  }
}

/** Thrown when a console form arrives without the session's CSRF token: a 403 page. */
export class ConsoleCsrfRejected extends Error {
  constructor() {
    super('CSRF token missing or invalid');
  }
}

export type ConsoleRequest = Request & { consoleSession?: Session };

/**
 * Every console page needs a signed, unexpired session cookie; every POST also needs the
 * session's CSRF token in the `_csrf` field. (The API key guard does not apply: these routes
 * are @Public() for API keys and protected here instead.)
 */
@Injectable()
export class ConsoleSessionGuard implements CanActivate {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<ConsoleRequest>();
    const cookies = parseCookies(req.headers.cookie);
    const keys = { review: this.config.secrets.apiKeys.review, admin: this.config.secrets.apiKeys.admin };
    const check = decodeSession(cookies[SESSION_COOKIE], this.config.secrets.sessionSecret, this.clock.now(), keys);
    if (!check.ok) throw new ConsoleLoginRequired(check.reason);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const token = (req.body as Record<string, unknown> | undefined)?._csrf;
      if (!csrfValid(check.session, this.config.secrets.sessionSecret, token)) throw new ConsoleCsrfRejected();
    }
    req.consoleSession = check.session;
    return true;
  }
}
