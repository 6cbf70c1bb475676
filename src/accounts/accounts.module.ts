import { Module } from '@nestjs/common';
import { IngestionModule } from '../ingestion/ingestion.module';
import { SignalsModule } from '../signals/signals.module';
import { AccountsController } from './accounts.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { CsvImportService } from './csv-import.service';

@Module({
  imports: [SignalsModule, IngestionModule],
  controllers: [AccountsController],
  providers: [AccountsRepository, AccountsService, CsvImportService],
  exports: [AccountsRepository, AccountsService, CsvImportService],
})
export class AccountsModule {}
