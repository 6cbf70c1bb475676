import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { HealthController } from './health.controller';
import { HealthRepository } from './health.repository';
import { HealthScheduler } from './health.scheduler';
import { HealthService } from './health.service';

@Module({
  imports: [AccountsModule],
  controllers: [HealthController],
  providers: [HealthRepository, HealthService, HealthScheduler],
  exports: [HealthService],
})
export class HealthModule {}
