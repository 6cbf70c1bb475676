import { Module } from '@nestjs/common';
import { SignalsRepository } from './signals.repository';
import { SignalsService } from './signals.service';

@Module({
  providers: [SignalsService, SignalsRepository],
  exports: [SignalsService],
})
export class SignalsModule {}
