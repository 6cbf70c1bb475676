import { Module } from '@nestjs/common';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { IngestionModule } from '../ingestion/ingestion.module';
import { JourneysModule } from '../journeys/journeys.module';
import { DirectoryTemplateCatalog, FetchHttpClient, HttpClient, TemplateCatalog } from './adapters';
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
  imports: [IngestionModule, JourneysModule],
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
    { provide: TemplateCatalog, inject: [CONFIG], useFactory: (config: Config) => new DirectoryTemplateCatalog(config.templatesDir) },
  ],
  exports: [JourneyVersionsService, TriggersService, StepRunnerService, HandoffWebhooksService, EngineWorkers],
})
export class EngineModule {}
