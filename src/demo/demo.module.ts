import { Module } from '@nestjs/common';
import { IngestionModule } from '../ingestion/ingestion.module';
import { DemoService } from './demo.service';

@Module({
  imports: [IngestionModule],
  providers: [DemoService],
  exports: [DemoService],
})
export class DemoModule {}
