import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import { AccountsModule } from './accounts/accounts.module';
import { AuthModule } from './auth/auth.module';
import { Clock } from './common/clock';
import { requestId } from './common/request-id';
import type { Config } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { IngestionModule } from './ingestion/ingestion.module';
import { OpsModule } from './ops/ops.module';
import { SignalsModule } from './signals/signals.module';
import { DemoModule } from './demo/demo.module';
import { DeliveryModule } from './delivery/delivery.module';
import { TrackingModule } from './tracking/tracking.module';
import { ConditionsModule } from './conditions/conditions.module';
import { JourneysModule } from './journeys/journeys.module';
import { EngineModule } from './engine/engine.module';
import { TemplatesModule } from './templates/templates.module';
import { HealthModule } from './health/health.module';
import { ConsoleModule } from './console/console.module';
import { loggablePath } from './common/loggable-path';

export interface AppOptions {
  config: Config;
  clock: Clock;
  /** The resolved database URL (embedded or DATABASE_URL). */
  databaseUrl: string;
}

/** Everything Touchline serves and runs; the role setting decides which workers start. */
@Module({})
export class AppModule {
  static forRoot({ config, clock, databaseUrl }: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, clock),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            genReqId: requestId,
            redact: {
              paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]'],
              censor: '[redacted]',
            },
            // Tracking links carry signed tokens in the path; keep them out of logs.
            serializers: { req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: loggablePath(req.url) }) },
            autoLogging: { ignore: (req: IncomingMessage) => req.url === '/healthz' },
          },
        }),
        DatabaseModule.forRoot(databaseUrl, config.database.poolSize),
        ScheduleModule.forRoot(),
        AuthModule,
        OpsModule,
        IngestionModule,
        SignalsModule,
        AccountsModule,
        DemoModule,
        DeliveryModule,
        TrackingModule,
        ConditionsModule,
        JourneysModule,
        EngineModule,
        TemplatesModule,
        HealthModule,
        ConsoleModule,
      ],
    };
  }
}
