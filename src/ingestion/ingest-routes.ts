import type { IngestionService, IngestResult } from './ingestion.service';

/** The Segment HTTP Tracking API routes, by what each one ingests. */
export type IngestRoute = 'identify' | 'group' | 'track' | 'batch';

/** Path (as Express matches it, under /v1) to route: `/v1/import` is Segment's alias of batch. */
export const INGEST_PATHS: Readonly<Record<string, IngestRoute>> = {
  '/v1/identify': 'identify',
  '/v1/group': 'group',
  '/v1/track': 'track',
  '/v1/batch': 'batch',
  '/v1/import': 'batch',
};

export type IngestAnswer = { success: true } & IngestResult;

/**
 * What a route does with a parsed body, and its 200 answer; failures are thrown as domain
 * errors. Shared by the Nest controller and the raw ingestion listener (ingestion-listener.ts).
 */
export async function ingestRoute(ingestion: IngestionService, route: IngestRoute, body: unknown): Promise<IngestAnswer> {
  const result = route === 'batch' ? await ingestion.ingestBatch(body) : await ingestion.ingestOne(route, body);
  return { success: true, ...result };
}
