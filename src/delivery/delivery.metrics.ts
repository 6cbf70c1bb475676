import { Counter } from 'prom-client';
import { registry } from '../ops/metrics';

/** Outcomes of delivery decisions and sends, by kind. */
export const deliveryOutcomes = new Counter({
  name: 'touchline_delivery_messages_total',
  help: 'Outbox messages by delivery outcome (sent, retry, failed, bounced, policy_rejected, rejected, outage, suppressed, deferred, capped)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
