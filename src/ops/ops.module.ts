import { Module } from '@nestjs/common';
import { OpsController } from './ops.controller';
import { OpsRepository } from './ops.repository';
import { OpsService } from './ops.service';

@Module({
  controllers: [OpsController],
  providers: [OpsService, OpsRepository],
})
export class OpsModule {}
