import { Module } from '@nestjs/common';
import { TemplatesModule } from '../templates/templates.module';
import { TrackingModule } from '../tracking/tracking.module';
import { CONFIG } from '../config/config.module';
import type { Config } from '../config/config';
import { DeliveryWorker } from './delivery.worker';
import { DispatchRepository } from './dispatch.repository';
import { Dispatcher } from './dispatcher';
import { createMailTransport, MailTransport } from './mail-transport';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';
import { RateLimiter } from './rate-limiter';
import { MessageRenderer } from './message-renderer';
import { RateRepository } from './rate.repository';
import { TemplatesMessageRenderer } from './templates-message-renderer';
import { InboundMailController, UnsubscribeController } from './unsubscribe.controller';
import { UnsubscribeRepository } from './unsubscribe.repository';
import { UnsubscribeService } from './unsubscribe.service';

/** The outbox and its dispatcher, transports, rate limit and one-click unsubscribe. */
@Module({
  imports: [TemplatesModule, TrackingModule],
  controllers: [UnsubscribeController, InboundMailController],
  providers: [
    OutboxRepository,
    OutboxService,
    DispatchRepository,
    RateRepository,
    RateLimiter,
    UnsubscribeRepository,
    UnsubscribeService,
    { provide: MailTransport, inject: [CONFIG], useFactory: (config: Config) => createMailTransport(config) },
    { provide: MessageRenderer, useClass: TemplatesMessageRenderer },
    Dispatcher,
    DeliveryWorker,
  ],
  exports: [OutboxService, MailTransport, Dispatcher],
})
export class DeliveryModule {}
