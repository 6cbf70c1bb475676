import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { JourneysModule } from '../journeys/journeys.module';
import { TemplatesModule } from '../templates/templates.module';
import { AccountDetailRepository } from './account-detail.repository';
import { AccountsListRepository } from './accounts-list.repository';
import { ConsoleAccountsController } from './console-accounts.controller';
import { ConsoleAccountsService } from './console-accounts.service';
import { ConsoleAuthController } from './console-auth.controller';
import { ConsoleHandoffsController } from './console-handoffs.controller';
import { ConsoleHandoffsService } from './console-handoffs.service';
import { ConsoleJourneysController } from './console-journeys.controller';
import { ConsoleJourneysService } from './console-journeys.service';
import { ConsoleMessagesController } from './console-messages.controller';
import { ConsolePages } from './console-page';
import { ConsolePreviewController } from './console-preview.controller';
import { ConsoleSessionGuard } from './console-session.guard';
import { EmailPreview } from './email-preview';
import { ConsoleSummariesRepository } from './console-summaries.repository';
import { ConsoleSummariesWorker } from './console-summaries.worker';
import { HandoffsInboxRepository } from './handoffs-inbox.repository';
import { JourneyTimelineSource } from './journey-timeline.source';
import { JourneyEnrollmentsRepository } from './journey-enrollments.repository';
import { JourneysReportRepository } from './journeys-report.repository';
import { MessagesLogRepository } from './messages-log.repository';

/** The CS console at /console: server-rendered pages behind a signed session cookie. */
@Module({
  imports: [TemplatesModule, JourneysModule],
  controllers: [ConsoleAuthController, ConsoleAccountsController, ConsoleMessagesController, ConsoleHandoffsController, ConsoleJourneysController, ConsolePreviewController],
  providers: [
    ConsolePages,
    ConsoleSessionGuard,
    ConsoleAccountsService,
    ConsoleHandoffsService,
    ConsoleJourneysService,
    AccountsListRepository,
    AccountDetailRepository,
    MessagesLogRepository,
    HandoffsInboxRepository,
    JourneysReportRepository,
    JourneyTimelineSource,
    JourneyEnrollmentsRepository,
    EmailPreview,
    ConsoleSummariesRepository,
    ConsoleSummariesWorker,
  ],
  exports: [ConsoleSummariesWorker],
})
export class ConsoleModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Server time is measured from here (before guards), and reported on every page.
    consumer
      .apply((req: { consoleStartedAt?: number }, _res: unknown, next: () => void) => {
        req.consoleStartedAt = performance.now();
        next();
      })
      .forRoutes('console', 'console/*path');
  }
}
