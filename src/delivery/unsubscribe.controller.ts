import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RateLimited } from '../auth/rate-limit.guard';
import type { Request, Response } from 'express';
import { Public, RequireScope } from '../auth/scopes.decorator';
import { confirmPage, donePage, invalidPage } from './unsubscribe.pages';
import { UnsubscribeService } from './unsubscribe.service';

/**
 * `/u/:token`: GET shows a confirmation page and changes nothing (mail scanners follow
 * links); POST with the RFC 8058 body `List-Unsubscribe=One-Click` unsubscribes at once.
 * Answers are plain 200/400 pages: no cookies, no redirects.
 */
@ApiExcludeController()
@Public()
@RateLimited('unsubscribe')
@Controller('u')
export class UnsubscribeController {
  constructor(private readonly service: UnsubscribeService) {}

  @Get(':token')
  async show(@Param('token') token: string, @Res() res: Response) {
    const state = await this.service.inspect(token);
    if (!state.ok) return html(res, 400, invalidPage());
    return html(res, 200, confirmPage(state.target.locale, state.target.email, state.target.suppressed));
  }

  @Post(':token')
  @HttpCode(200)
  async unsubscribe(@Param('token') token: string, @Body() body: unknown, @Req() req: Request, @Res() res: Response) {
    const form = await oneClickBody(body, req);
    if (!form.oneClick) {
      res.status(400).type('text/plain; charset=utf-8').send('expected the RFC 8058 body "List-Unsubscribe=One-Click"\n');
      return;
    }
    const state = await this.service.unsubscribe(token, form.viaPage ? 'page' : 'one-click');
    if (!state.ok) return html(res, 400, invalidPage());
    return html(res, 200, donePage(state.target.locale, state.target.email));
  }
}

/**
 * `POST /webhooks/inbound`: the providers' inbound-parse webhook for mail sent to the
 * List-Unsubscribe mailto (`{"to", "from", "subject"}`), with the ingest (or admin) key like
 * the generic bounce webhook.
 */
@ApiTags('webhooks')
@Controller('webhooks')
export class InboundMailController {
  constructor(private readonly service: UnsubscribeService) {}

  @Post('inbound')
  @RateLimited('webhooks')
  @RequireScope('ingest')
  @ApiSecurity('apiKey')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inbound mail to the List-Unsubscribe mailto: {"to","from","subject"}; unsubscribes the signed recipient' })
  inbound(@Body() body: unknown) {
    return this.service.unsubscribeByMail(body);
  }
}

function html(res: Response, status: number, body: string): void {
  res.status(status).set({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-robots-tag': 'noindex' }).send(body);
}

/** RFC 8058 allows application/x-www-form-urlencoded (parsed already) or multipart/form-data (read here). */
async function oneClickBody(body: unknown, req: Request): Promise<{ oneClick: boolean; viaPage: boolean }> {
  const parsed = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if (parsed['List-Unsubscribe'] !== undefined) return { oneClick: parsed['List-Unsubscribe'] === 'One-Click', viaPage: parsed.via === 'page' };
  if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? '') || req.readableEnded) return { oneClick: false, viaPage: false };
  let raw = '';
  for await (const chunk of req) {
    raw += chunk.toString('utf8');
    if (raw.length > 16_384) return { oneClick: false, viaPage: false };
  }
  return { oneClick: /name="List-Unsubscribe"\r?\n\r?\n\s*One-Click\s*(\r?\n|$)/.test(raw), viaPage: false };
}
