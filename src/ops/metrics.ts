import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The process-wide Prometheus registry and the counters other modules record into. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpDuration = new Histogram({
  name: 'touchline_http_request_duration_seconds',
  help: 'HTTP request duration by route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const ingestedMessages = new Counter({
  name: 'touchline_ingested_messages_total',
  help: 'Messages accepted by the ingestion API (after dedupe)',
  registers: [registry],
});

export const rejectedMessages = new Counter({
  name: 'touchline_rejected_messages_total',
  help: 'Messages rejected by the ingestion API as invalid',
  registers: [registry],
});

export const ingestStatements = new Counter({
  name: 'touchline_ingest_statements_total',
  help: 'Group-committed track statements, and the requests they answered',
  labelNames: ['count'] as const,
  registers: [registry],
});
