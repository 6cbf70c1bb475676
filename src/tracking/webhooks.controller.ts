import { RateLimited } from '../auth/rate-limit.guard';
import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public, RequireScope } from '../auth/scopes.decorator';
import { InvalidInput } from '../common/errors';
import { BouncesService } from './bounces.service';
import { SendingHealthService } from './sending-health.service';
import { SENDGRID_SIGNATURE, SENDGRID_TIMESTAMP } from './webhooks/sendgrid';

/**
 * Bounce and complaint webhooks. The provider endpoints are public because each proves its
 * sender its own way (SNS signature, SendGrid ECDSA signature, Postmark basic auth); the
 * generic endpoint takes the ingest or admin key.
 */
@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly bounces: BouncesService) {}

  @Post('ses')
  @RateLimited('webhooks')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Amazon SES notifications via SNS (signature verified; subscription confirmed)' })
  ses(@Body() body: unknown) {
    return this.bounces.ses(body);
  }

  @Post('sendgrid')
  @RateLimited('webhooks')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'SendGrid Event Webhook (signed; ECDSA public key configured)' })
  sendgrid(@Body() body: unknown, @Req() req: Request & { rawBody?: Buffer }, @Headers(SENDGRID_SIGNATURE) signature?: string, @Headers(SENDGRID_TIMESTAMP) timestamp?: string) {
    return this.bounces.sendgrid(body, req.rawBody, signature, timestamp);
  }

  @Post('postmark')
  @RateLimited('webhooks')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Postmark bounce, spam complaint and delivery webhooks (basic auth)' })
  postmark(@Body() body: unknown, @Req() req: Request & { rawBody?: Buffer }, @Headers('authorization') authorization?: string) {
    return this.bounces.postmark(body, authorization, req.rawBody);
  }

  @Post('generic')
  @RateLimited('webhooks')
  @RequireScope('ingest')
  @ApiSecurity('apiKey')
  @HttpCode(200)
  @ApiOperation({ summary: 'Bounces and complaints from any relay: {"events":[{"type","email","messageId"?,"id"?,"occurredAt"?}]}' })
  generic(@Body() body: unknown) {
    return this.bounces.generic(body);
  }
}

@ApiTags('webhooks')
@Controller('api/sending-health')
export class SendingHealthController {
  constructor(private readonly health: SendingHealthService) {}

  @Get()
  @RequireScope('review')
  @ApiSecurity('apiKey')
  @ApiOperation({ summary: 'Complaint rate over 7 days, threshold, and the sending pauses in force' })
  report() {
    return this.health.check();
  }

  @Delete('pauses/:kind')
  @RequireScope('admin')
  @ApiSecurity('apiKey')
  @ApiOperation({ summary: 'Resume a paused kind of mail (marketing or all) after looking into it' })
  resume(@Param('kind') kind: string) {
    if (kind !== 'marketing' && kind !== 'all') throw new InvalidInput('kind must be marketing or all', [{ path: 'kind', message: 'expected marketing or all' }]);
    return this.health.resume(kind);
  }
}
