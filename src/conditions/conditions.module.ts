import { Module } from '@nestjs/common';
import { SignalsModule } from '../signals/signals.module';
import { ConditionsRepository } from './conditions.repository';

/** Set-based condition evaluation and facts for the in-memory evaluator (used by journeys and the engine). */
@Module({
  imports: [SignalsModule],
  providers: [ConditionsRepository],
  exports: [ConditionsRepository],
})
export class ConditionsModule {}
