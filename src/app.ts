import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule, AppOptions } from './app.module';
import { ExceptionsFilter } from './common/exception.filter';
import { httpDuration } from './ops/metrics';
import { mountIngestionListener } from './ingestion/ingestion-listener';
import { mountTrackingListener } from './tracking/tracking-listener';

/** Builds the Nest application (not yet listening): used by `npm start`, the CLI and tests. */
export async function createApp(options: AppOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bodyParser: false,
    bufferLogs: true,
    // Webhook signatures (SendGrid) are over the exact bytes received.
    rawBody: true,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  const limit = options.config.ingest.maxBatchBytes;
  // Segment libraries send JSON, some with text/plain; accept both.
  app.useBodyParser('json', { limit, type: ['application/json', 'text/plain', 'application/*+json'] });
  app.useBodyParser('urlencoded', { limit: '64kb', extended: false });
  app.use((req: any, res: any, next: () => void) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => end({ method: req.method, route: req.route?.path ?? 'unmatched', status: res.statusCode }));
    next();
  });
  app.useGlobalFilters(new ExceptionsFilter());
  const doc = new DocumentBuilder()
    .setTitle('Touchline')
    .setDescription('Tech-touch engine for B2B SaaS customer success')
    .setVersion('0.1.0')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'Segment write key (the ingest key) as user name' }, 'writeKey')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key of the scope the route needs' }, 'apiKey')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc));
  // Opens and clicks, and plain Segment ingestion calls, are answered in front of the Nest
  // pipeline (same services, same answers); everything else goes through Nest.
  mountTrackingListener(app);
  mountIngestionListener(app);
  return app;
}
