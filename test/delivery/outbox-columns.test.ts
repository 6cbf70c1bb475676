import { Db } from '../../src/database/db';
import { idempotencyKey, NewMessage, OutboxService } from '../../src/delivery/outbox.service';
import { startTestApp, TestApp } from '../support/app';
import { seedContacts } from './support';

/**
 * The outbox's batch insert builds its column arrays in one pass (array literals serialised by
 * src/database/pg-params.ts, times as ISO strings): every column of every row must hold exactly
 * what the message said — nulls, quotes, backslashes, unicode, times to the millisecond — and a
 * key enqueued again answers the row that exists.
 */
describe('outbox: the rows a batch writes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const odd = ['plain', 'a "quoted" word', 'back\\slash \\" both', '日本語の件名 😀', "it's {a,b} NULL", ''];

  it('holds every field of every message, and answers existing keys with their ids', async () => {
    const { accountId, contacts } = await seedContacts(t, odd.length);
    const base = Math.floor(Math.random() * 1e9);
    const at = new Date('2026-11-20T03:04:05.678Z');
    const messages: NewMessage[] = contacts.map((c, i) => ({
      enrollmentId: String(base + i),
      stepId: `step "${i}" \\`,
      seq: i % 2 ? i : undefined,
      contactId: c.id,
      accountId: i === 1 ? null : accountId,
      toEmail: `  ${c.email} `,
      journeyKey: i === 2 ? null : `journey-${i}`,
      journeyVersionId: i === 3 ? undefined : String(100 + i),
      template: `template-${i}`,
      templateVersion: i % 3 ? `v${i}` : null,
      locale: i % 2 ? 'ja' : 'en',
      category: i % 2 ? 'marketing' : 'operational',
      priority: i === 4 ? undefined : i * 10 - 20,
      context: i === 5 ? undefined : { name: odd[i], nested: { list: [1, null, 'x'] }, unicode: '😀' },
      scheduledAt: new Date(at.getTime() + i),
      expiresAt: i % 2 ? new Date(at.getTime() + 86_400_000 + i) : null,
      holdout: i === 2,
      subject: i === 0 ? undefined : odd[i],
      reason: i === 3 ? null : odd[(i + 1) % odd.length],
    }));
    const enqueue = (list: NewMessage[]) => t.app.get(Db).transaction((tx) => t.app.get(OutboxService).enqueueMany(tx, list));
    const first = await enqueue(messages);
    expect(first.map((e) => e.created)).toEqual(messages.map(() => true));
    const rows = await t.db.query(
      `SELECT id::text, idempotency_key, account_id::text, contact_id::text, to_email, journey_key, journey_version_id::text, enrollment_id::text, step_id,
              template, template_version, locale, category, priority, context, status, scheduled_at, expires_at, subject, reason
         FROM messages WHERE idempotency_key = ANY($1::text[])`,
      [first.map((e) => e.key)],
    );
    expect(rows).toHaveLength(messages.length);
    messages.forEach((m, i) => {
      const key = idempotencyKey(m.enrollmentId, m.stepId, m.contactId, m.seq);
      expect(first[i].key).toBe(key);
      const row = rows.find((r) => r.idempotency_key === key);
      expect(row).toEqual({
        id: first[i].id,
        idempotency_key: key,
        account_id: m.accountId == null ? null : String(m.accountId),
        contact_id: String(m.contactId),
        to_email: m.toEmail.trim(),
        journey_key: m.journeyKey ?? null,
        journey_version_id: m.journeyVersionId == null ? null : String(m.journeyVersionId),
        enrollment_id: String(m.enrollmentId),
        step_id: m.stepId,
        template: m.template,
        template_version: m.templateVersion ?? null,
        locale: m.locale,
        category: m.category,
        priority: m.priority ?? 0,
        context: m.context ?? {},
        status: m.holdout ? 'holdout' : 'queued',
        scheduled_at: m.scheduledAt,
        expires_at: m.expiresAt ?? null,
        subject: m.subject ?? null,
        reason: m.reason ?? null,
      });
    });
    // Again, with two new messages among them: the old keys answer their rows (not created), the new ones are written.
    const more: NewMessage[] = [...messages.slice(0, 3), ...messages.slice(0, 2).map((m) => ({ ...m, stepId: `${m.stepId}-again` }))];
    const second = await enqueue(more);
    expect(second.map((e) => e.created)).toEqual([false, false, false, true, true]);
    expect(second.slice(0, 3).map((e) => e.id)).toEqual(first.slice(0, 3).map((e) => e.id));
  });
});
