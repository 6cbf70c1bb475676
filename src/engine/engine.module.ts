import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { IngestionModule } from '../ingestion/ingestion.module';
import { JourneysModule } from '../journeys/journeys.module';
import { FetchHttpClient, HttpClient, RenderContextSource, TemplateCatalog, TemplatesRenderContextSource, TemplatesServiceCatalog } from './adapters';
import { TemplatesModule } from '../templates/templates.module';
import { EngineReportsRepository } from './engine-reports.repository';
import { EngineController } from './engine.controller';
import { EngineWorkers } from './engine.workers';
import { EnrollmentsRepository } from './enrollments.repository';
import { HandoffWebhooksRepository, HandoffWebhooksService } from './handoff-webhooks';
import { JourneyVersionsRepository } from './journey-versions.repository';
import { JourneyVersionsService } from './journey-versions.service';
import { StepRunnerService } from './step-runner.service';
import { TriggersRepository } from './triggers.repository';
import { TriggersService } from './triggers.service';

/** The journey engine: versions, triggers, step execution, hand-off webhooks, reports. */
@Module({
  imports: [IngestionModule, JourneysModule, TemplatesModule, DeliveryModule],
  controllers: [EngineController],
  providers: [
    JourneyVersionsRepository,
    JourneyVersionsService,
    TriggersRepository,
    TriggersService,
    EnrollmentsRepository,
    StepRunnerService,
    HandoffWebhooksRepository,
    HandoffWebhooksService,
    EngineReportsRepository,
    EngineWorkers,
    { provide: HttpClient, useClass: FetchHttpClient },
    { provide: TemplateCatalog, useClass: TemplatesServiceCatalog },
    { provide: RenderContextSource, useClass: TemplatesRenderContextSource },
  ],
  exports: [JourneyVersionsService, TriggersService, StepRunnerService, HandoffWebhooksService, EngineWorkers],
})
export class EngineModule {}
