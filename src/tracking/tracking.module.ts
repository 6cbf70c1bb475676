import { Module } from '@nestjs/common';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { BouncesRepository } from './bounces.repository';
import { BouncesService } from './bounces.service';
import { EngagementRepository } from './engagement.repository';
import { LinkBuilderFactory } from './link-builder';
import { SendingHealthService } from './sending-health.service';
import { SuppressionsRepository } from './suppressions.repository';
import { TrackingController } from './tracking.controller';
import { TrackingService } from './tracking.service';
import { SendingHealthController, WebhooksController } from './webhooks.controller';
import { FetchSnsHttp, SnsHttp } from './webhooks/sns';

/**
 * Opens, clicks, preferences, surveys, bounce webhooks and the sending-health guard.
 * Exports the link factory (for rendering), the suppression list and the guard.
 */
@Module({
  controllers: [TrackingController, WebhooksController, SendingHealthController],
  providers: [
    EngagementRepository,
    SuppressionsRepository,
    BouncesRepository,
    TrackingService,
    BouncesService,
    SendingHealthService,
    { provide: SnsHttp, useClass: FetchSnsHttp },
    { provide: LinkBuilderFactory, inject: [CONFIG], useFactory: (config: Config) => new LinkBuilderFactory(config.secrets.trackingKeys, config.publicUrl) },
  ],
  exports: [LinkBuilderFactory, SuppressionsRepository, SendingHealthService, EngagementRepository],
})
export class TrackingModule {}
