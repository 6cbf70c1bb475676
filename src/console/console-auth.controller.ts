import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { keyGrants } from '../auth/api-keys';
import { RateLimited } from '../auth/rate-limit.guard';
import { Public } from '../auth/scopes.decorator';
import { Clock } from '../common/clock';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { CONSOLE_CSS, CONSOLE_JS } from './assets';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { CONSOLE_HEADERS, ConsolePages } from './console-page';
import { ConsoleCsrfRejected, ConsoleSessionGuard } from './console-session.guard';
import { chooseLang } from './i18n';
import {
  cookieHeader,
  encodeSession,
  LANG_COOKIE,
  LOGIN_CSRF_COOKIE,
  loginCsrfValid,
  newLoginCsrf,
  newSession,
  parseCookies,
  SESSION_COOKIE,
} from './session';
import { loginPage } from './views/login.view';

/** Only same-site console paths are followed after login (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console(\/|$|\?)/.test(next) && !next.startsWith('//') && !next.includes('\\') ? next : '/console/accounts';
}

/**
 * Login, logout, language switch and static assets: public for API keys; the login form is
 * protected by a double-submit CSRF token, logout by the session's token.
 */
@ApiExcludeController()
@Public()
@UseFilters(ConsoleExceptionFilter)
@Controller('console')
export class ConsoleAuthController {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly pages: ConsolePages,
  ) {}

  private get secure(): boolean {
    return this.config.publicUrl.startsWith('https:');
  }

  @Get()
  home(@Res() res: Response) {
    res.redirect(303, '/console/accounts');
  }

  @Get('login')
  loginForm(@Req() req: Request, @Res() res: Response, @Query('next') next?: string, @Query('expired') expired?: string) {
    const token = newLoginCsrf();
    res.setHeader('Set-Cookie', cookieHeader(LOGIN_CSRF_COOKIE, token, { path: '/console/login', maxAge: 3600, secure: this.secure }));
    const ctx = this.pages.context(req);
    this.pages.send(res, ctx, loginPage(ctx, { loginCsrf: token, next: safeNext(next), expired: expired === '1' }));
  }

  @Post('login')
  @RateLimited('login')
  login(@Req() req: Request, @Res() res: Response, @Body() body: Record<string, unknown>) {
    const cookies = parseCookies(req.headers.cookie);
    if (!loginCsrfValid(cookies[LOGIN_CSRF_COOKIE], body?._csrf)) throw new ConsoleCsrfRejected();
    const key = typeof body.key === 'string' ? body.key.trim() : '';
    const keys = this.config.secrets.apiKeys;
    if (!key || !keyGrants(keys, key, 'review')) {
      const ctx = this.pages.context(req);
      const token = newLoginCsrf();
      res.setHeader('Set-Cookie', cookieHeader(LOGIN_CSRF_COOKIE, token, { path: '/console/login', maxAge: 3600, secure: this.secure }));
      this.pages.send(res, ctx, loginPage(ctx, { loginCsrf: token, next: safeNext(body.next), error: ctx.t('login.failed') }), 401);
      return;
    }
    const role = keyGrants(keys, key, 'admin') ? 'admin' : 'review';
    const name = typeof body.name === 'string' ? body.name.trim().slice(0, 80) : '';
    const session = newSession({ role, name, key, now: this.clock.now(), ttlSeconds: this.config.console.sessionTtlSeconds });
    res.setHeader('Set-Cookie', [
      cookieHeader(SESSION_COOKIE, encodeSession(session, this.config.secrets.sessionSecret), { maxAge: this.config.console.sessionTtlSeconds, secure: this.secure }),
      cookieHeader(LOGIN_CSRF_COOKIE, '', { path: '/console/login', maxAge: 0 }),
    ]);
    res.redirect(303, safeNext(body.next));
  }

  @Get('lang/:lang')
  lang(@Param('lang') lang: string, @Query('back') back: string | undefined, @Res() res: Response) {
    const chosen = chooseLang(lang, undefined);
    res.setHeader('Set-Cookie', cookieHeader(LANG_COOKIE, chosen, { maxAge: 365 * 86400, httpOnly: false, secure: this.secure }));
    res.redirect(303, safeNext(back));
  }

  @Get('assets/console.css')
  css(@Res() res: Response) {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('text/css').send(CONSOLE_CSS);
  }

  @Get('assets/console.js')
  js(@Res() res: Response) {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('application/javascript').send(CONSOLE_JS);
  }

  /** Logout needs the session's CSRF token too (a forged logout is an annoyance, not harmless). */
  @Post('logout')
  @UseGuards(ConsoleSessionGuard)
  logout(@Res() res: Response) {
    for (const [k, v] of Object.entries(CONSOLE_HEADERS)) res.setHeader(k, v);
    res.setHeader('Set-Cookie', cookieHeader(SESSION_COOKIE, '', { maxAge: 0, secure: this.secure }));
    res.redirect(303, '/console/login');
  }
}
