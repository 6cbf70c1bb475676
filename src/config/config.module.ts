import { DynamicModule, Global, Module } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Config } from './config';

export const CONFIG = Symbol('CONFIG');

/** Provides the validated config object and the clock to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: Config, clock: Clock): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: Clock, useValue: clock },
      ],
      exports: [CONFIG, Clock],
    };
  }
}
