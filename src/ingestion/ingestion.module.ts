import { Module } from '@nestjs/common';
import { IngestionController } from './ingestion.controller';
import { IngestionNotifier } from './ingestion.notifier';
import { IngestionRepository } from './ingestion.repository';
import { IngestionService } from './ingestion.service';

@Module({
  controllers: [IngestionController],
  providers: [IngestionService, IngestionRepository, IngestionNotifier],
  exports: [IngestionService, IngestionNotifier],
})
export class IngestionModule {}
