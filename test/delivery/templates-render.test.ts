import * as fs from 'node:fs';
import * as path from 'node:path';
import { simpleParser } from 'mailparser';
import { Db } from '../../src/database/db';
import { Dispatcher } from '../../src/delivery/dispatcher';
import { MessageRenderer } from '../../src/delivery/message-renderer';
import { OutboxService } from '../../src/delivery/outbox.service';
import { TemplatesService } from '../../src/templates/templates.service';
import { RenderContextBuilder } from '../../src/templates/render-context.builder';
import { startTestApp, TestApp } from '../support/app';
import { drain, seedContacts, SmtpSink, startSmtpSink } from './support';

/** The dispatcher as the app wires it: real templates, tracking's signed links, configured transport. */
async function enqueueReal(t: TestApp, template: string, category: 'marketing' | 'operational') {
  const { accountId, contacts } = await seedContacts(t, 1);
  const context = await t.app.get(RenderContextBuilder).forRecipient(contacts[0].id, accountId);
  const [m] = await t.app.get(Db).transaction((tx) =>
    t.app.get(OutboxService).enqueueMany(tx, [{ enrollmentId: Date.now() % 1e9, stepId: 's', contactId: contacts[0].id, accountId, toEmail: contacts[0].email, template, locale: 'en', category, context: context as unknown as Record<string, unknown>, scheduledAt: t.clock.now() }]),
  );
  return m.id;
}

describe('delivery with the real templates', () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({ env: { SMTP_URL: sink.url, PUBLIC_URL: 'https://touchline.test', DELIVERY_RATE_PER_SECOND: '0' } });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('renders through TemplatesService with signed links; the body unsubscribe link is the List-Unsubscribe one', async () => {
    const id = await enqueueReal(t, 'adoption-we-miss-you', 'marketing');
    expect(await drain(t.app.get(Dispatcher))).toMatchObject({ sent: 1 });
    const [got] = sink.received;
    const row = (await t.db.query(`SELECT status, template_version, subject FROM messages WHERE id = $1`, [id]))[0];
    expect(row.status).toBe('sent');
    expect(row.template_version).toMatch(/^[0-9a-f]{8,}/);
    expect(got.mail.subject).toBe(row.subject);
    expect(got.mail.text).toMatch(/https:\/\/touchline\.test\/t\/c\//);
    const header = /^List-Unsubscribe: <([^>]+)>/m.exec(got.raw)![1];
    expect(header).toMatch(/^https:\/\/touchline\.test\/u\//);
    expect(got.mail.html).toContain(header);
  });

  it('links the body to the unsubscribe URL the dispatcher signed for List-Unsubscribe (it is not signed again)', async () => {
    const context = t.app.get(TemplatesService).sample('en') as unknown as Record<string, unknown>;
    const given = 'https://touchline.test/u/given-by-the-dispatcher';
    const email = await t.app.get(MessageRenderer).render({ id: '42', contactId: '7', accountId: null, toEmail: 'ken@example.com', template: 'adoption-we-miss-you', templateVersion: null, locale: 'en', category: 'marketing', context }, { unsubscribeUrl: given });
    expect(email.html).toContain(given);
    expect(email.html.match(/https:\/\/touchline\.test\/u\/[^"'\s<]+/g)?.every((u) => u === given)).toBe(true);
    // The other links are still this message's signed ones.
    expect(email.html).toMatch(/https:\/\/touchline\.test\/t\/c\/[\w-]+\.[\w-]+\.[\w-]+/);
  });
});

describe('file transport (no SMTP_URL, the npm start default)', () => {
  it('writes each message as DATA_DIR/mail/<id>.eml with its headers', async () => {
    const t = await startTestApp({ env: { DELIVERY_RATE_PER_SECOND: '0' } });
    try {
      const id = await enqueueReal(t, 'onboarding-welcome', 'operational');
      await drain(t.app.get(Dispatcher));
      const file = path.join(t.config.dataDir, 'mail', `${id}.eml`);
      const mail = await simpleParser(fs.readFileSync(file));
      expect(mail.headers.get('x-touchline-message-id')).toBe(id);
      expect(mail.subject).toMatch(/^Welcome to /);
      expect(mail.text).toBeTruthy();
      expect(mail.html).toBeTruthy();
      expect((await t.db.query(`SELECT status, smtp_response FROM messages WHERE id = $1`, [id]))[0]).toEqual({ status: 'sent', smtp_response: `250 written to ${file}` });
    } finally {
      await t.close();
    }
  });
});
