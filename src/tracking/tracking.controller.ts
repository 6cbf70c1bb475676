import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/scopes.decorator';
import { HitRequest, TrackingResponse, TrackingService } from './tracking.service';

/** 1×1 transparent GIF (43 bytes). */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const PAGE_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Robots-Tag': 'noindex, nofollow',
};

function hit(req: Request, token: string): HitRequest {
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    token,
    method: req.method,
    ip: req.ip ?? req.socket.remoteAddress,
    userAgent: header('user-agent'),
    acceptLanguage: header('accept-language'),
    origin: header('origin'),
    fetchSite: header('sec-fetch-site'),
  };
}

function send(res: Response, r: TrackingResponse): void {
  if (r.type === 'gif') {
    // Never cached anywhere, so every open reaches us.
    res.set({ 'Content-Type': 'image/gif', 'Content-Length': String(PIXEL.length), 'Cache-Control': 'no-store, no-cache, must-revalidate, private, max-age=0', Pragma: 'no-cache', Expires: '0' });
    res.status(200).end(PIXEL);
    return;
  }
  if (r.type === 'redirect') {
    // no-referrer: the target site must not learn the tracking URL (it carries the token).
    res.set({ Location: r.location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.status(302).end();
    return;
  }
  if ('retryAfter' in r && r.retryAfter) res.set('Retry-After', String(r.retryAfter));
  res.set(PAGE_HEADERS);
  res.status(r.status).type(r.type === 'html' ? 'html' : 'text').send(r.body);
}

/**
 * Public tracking endpoints (links in email carry signed tokens, not API keys). Paths
 * match the log serializer that hides `/t/<kind>/<token>`.
 */
@ApiExcludeController()
@Public()
@Controller('t')
export class TrackingController {
  constructor(private readonly tracking: TrackingService) {}

  @Get('o/:token')
  async open(@Param('token') token: string, @Req() req: Request, @Res() res: Response) {
    send(res, await this.tracking.open(hit(req, token)));
  }

  @Get('c/:token')
  async click(@Param('token') token: string, @Req() req: Request, @Res() res: Response) {
    send(res, await this.tracking.click(hit(req, token)));
  }

  @Get('p/:token')
  async preferences(@Param('token') token: string, @Req() req: Request, @Res() res: Response) {
    send(res, await this.tracking.preferences(hit(req, token)));
  }

  @Post('p/:token')
  async savePreferences(@Param('token') token: string, @Body() body: unknown, @Req() req: Request, @Res() res: Response) {
    send(res, await this.tracking.preferences(hit(req, token), body ?? {}));
  }

  @Get('s/:token')
  async survey(@Param('token') token: string, @Req() req: Request, @Res() res: Response) {
    send(res, await this.tracking.survey(hit(req, token)));
  }

  @Post('s/:token')
  async comment(@Param('token') token: string, @Body() body: unknown, @Req() req: Request, @Res() res: Response) {
    send(res, await this.tracking.survey(hit(req, token), body ?? {}));
  }
}
