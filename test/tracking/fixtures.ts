import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestApp } from '../support/app';
import { SignedLinkBuilder } from '../../src/tracking/link-builder';

export interface SeededMessage {
  id: string;
  contactId: string;
  accountId: string;
  email: string;
  links: SignedLinkBuilder;
}

let seq = 0;

/** An account, a contact and one sent message to it, straight in the database. */
export async function seedMessage(
  t: TestApp,
  o: { email?: string; locale?: string; category?: 'marketing' | 'operational'; sentAt?: Date | null; status?: string; contactId?: string; accountId?: string } = {},
): Promise<SeededMessage> {
  const n = ++seq;
  const now = t.clock.now();
  let accountId = o.accountId;
  if (!accountId) {
    [{ id: accountId }] = await t.db.query(`INSERT INTO accounts (external_id, name, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id::text`, [`acct-${n}-${Math.random()}`, `Account ${n}`, now]);
  }
  const email = o.email ?? `person${n}.${Math.floor(Math.random() * 1e9)}@example.com`;
  let contactId = o.contactId;
  if (!contactId) {
    [{ id: contactId }] = await t.db.query(
      `INSERT INTO contacts (external_id, account_id, email, name, locale, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id::text`,
      [`u-${n}-${Math.random()}`, accountId, email, `Person ${n}`, o.locale ?? 'en', now],
    );
  }
  const sentAt = o.sentAt === undefined ? new Date(now.getTime() - 3600_000) : o.sentAt;
  const [{ id }] = await t.db.query(
    `INSERT INTO messages (idempotency_key, account_id, contact_id, to_email, template, locale, category, status, scheduled_at, created_at, updated_at, sent_at, message_id_header)
     VALUES ($1, $2, $3, $4, 'welcome', $5, $6, $7, $8, $8, $8, $9, $10) RETURNING id::text`,
    [`k-${n}-${Math.random()}`, accountId, contactId, email, o.locale ?? 'en', o.category ?? 'marketing', o.status ?? (sentAt ? 'sent' : 'queued'), now, sentAt, `<m${n}.${Math.random()}@touchline.example>`],
  );
  return { id, contactId: contactId!, accountId: accountId!, email, links: new SignedLinkBuilder(t.config.secrets.trackingKeys, t.config.publicUrl, id, contactId!) };
}

/** The path of a link built for the configured public URL (tests call the app directly). */
export function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

export async function events(t: TestApp, messageId: string, kind?: string) {
  return t.db.query(`SELECT * FROM engagement_events WHERE message_id = $1 ${kind ? 'AND kind = $2' : ''} ORDER BY id`, kind ? [messageId, kind] : [messageId]);
}

/** A locally generated certificate stands in for Amazon's (fetched through the injectable adapter). */
export function snsCertificate(): { cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sns-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '3', '-subj', '/CN=sns.us-west-2.amazonaws.com'], { stdio: 'ignore' });
  const out = { cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'), key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}
