import { Clock } from '../../src/common/clock';
import type { Config } from '../../src/config/config';
import { Db } from '../../src/database/db';
import { DispatchRepository } from '../../src/delivery/dispatch.repository';
import { Dispatcher } from '../../src/delivery/dispatcher';
import { MailTransport, SmtpTransport } from '../../src/delivery/mail-transport';
import { MessageRenderer } from '../../src/delivery/message-renderer';
import { OutboxService } from '../../src/delivery/outbox.service';
import { RateLimiter } from '../../src/delivery/rate-limiter';
import { RateRepository } from '../../src/delivery/rate.repository';
import type { TestApp } from '../support/app';

export { startSmtpSink, TestRenderer } from '../support/mail';
export type { SmtpSink, Received } from '../support/mail';

/** A dispatcher built from the app's parts, with the test renderer and (by default) SMTP to the sink. */
export function makeDispatcher(t: TestApp, renderer: MessageRenderer, options: { transport?: MailTransport; config?: Config; clock?: Clock } = {}) {
  const config = options.config ?? t.config;
  const transport = options.transport ?? new SmtpTransport(config.smtp);
  const dispatcher = new Dispatcher(t.app.get(DispatchRepository), new RateLimiter(t.app.get(RateRepository), config), transport, renderer, options.clock ?? t.clock, config);
  return { dispatcher, transport };
}

/** Runs ticks until one claims nothing (or `max` rounds). */
export async function drain(dispatcher: Dispatcher, max = 50) {
  const totals = { claimed: 0, sent: 0, retried: 0, failed: 0, other: 0 };
  for (let i = 0; i < max; i++) {
    const r = await dispatcher.tick();
    if (!r.claimed) break;
    for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r[k];
  }
  return totals;
}

let seq = 0;

/** An account and contacts straight in the database. */
export async function seedContacts(t: TestApp, n: number, over: { timezone?: string | null; accountTz?: string | null; consent?: boolean | null } = {}) {
  const at = t.clock.now();
  const [acc] = await t.db.query<{ id: string }>(
    `INSERT INTO accounts (external_id, name, timezone, created_at, updated_at) VALUES ($1, 'Acme', $2, $3, $3) RETURNING id::text`,
    [`acc-${++seq}-${Math.random()}`, over.accountTz ?? null, at],
  );
  const rows = await t.db.query<{ id: string; email: string }>(
    `INSERT INTO contacts (external_id, account_id, email, name, timezone, consent_marketing, created_at, updated_at)
     SELECT 'u-' || $1 || '-' || g, $2::bigint, 'user' || $1 || '-' || g || '@example.com', 'User ' || g, $3, $4, $5, $5
       FROM generate_series(1, $6::int) g RETURNING id::text, email`,
    [`${++seq}`, acc.id, over.timezone === undefined ? 'Asia/Tokyo' : over.timezone, over.consent === undefined ? true : over.consent, at, n],
  );
  return { accountId: acc.id, contacts: rows };
}

/** `n` new contacts of one account, one queued message each (scheduled at `at`), through the outbox. */
export async function enqueueMany(t: TestApp, n: number, at: Date, category: 'marketing' | 'operational' = 'operational') {
  const { accountId, contacts } = await seedContacts(t, n);
  const base = Math.floor(Math.random() * 1e9);
  return t.app.get(Db).transaction((tx) =>
    t.app.get(OutboxService).enqueueMany(
      tx,
      contacts.map((c, i) => ({ enrollmentId: base + i, stepId: 'x', contactId: c.id, accountId, toEmail: c.email, template: 't', locale: 'en', category, context: { name: `n${i}` }, scheduledAt: at })),
    ),
  );
}
