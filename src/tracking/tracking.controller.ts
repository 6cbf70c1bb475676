import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/scopes.decorator';
import { hitRequest, writeTrackingResponse } from './tracking-http';
import { HitRequest, TrackingResponse, TrackingService } from './tracking.service';

function hit(req: Request, token: string): HitRequest {
  return hitRequest(req, token, req.ip ?? req.socket.remoteAddress);
}

function send(res: Response, r: TrackingResponse): void {
  writeTrackingResponse(res, r);
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
