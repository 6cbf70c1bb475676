import { Injectable } from '@nestjs/common';
import { Db, isRetryable, Tx } from '../database/db';
import { GroupCommit } from '../database/group-commit';
import { ingestStatements } from '../ops/metrics';
import { INSERT_EVENTS_DEDUPLICATING, INSERT_EVENTS_PLAIN } from './events-statement';
import type { AccountFields, ContactFields } from './segment-mapping';
import type { NormalizedMessage } from './normalize';

export interface WriteResult {
  inserted: number;
  duplicates: number;
}

/** Group commit: statements in flight at once, and events per statement at most. */
export const GROUP_COMMIT = { maxInFlight: 2, maxItems: 2000 };

/**
 * Writes ingested messages. Track-only requests are group-committed: those arriving while
 * earlier statements run are written together in one atomic statement (people resolved,
 * events and rollups written), and each is answered after that commit. Requests with
 * identify/group run in a transaction of their own. Rollups are upserted in key order so
 * concurrent statements cannot deadlock on them; a deadlock elsewhere is retried.
 */
@Injectable()
export class IngestionRepository {
  private readonly tracks = new GroupCommit<EventsRequest, WriteResult>(
    (requests) => this.writeEventsRetrying(requests),
    (r) => r.messages.length,
    GROUP_COMMIT,
  );

  constructor(private readonly db: Db) {}

  async write(messages: NormalizedMessage[], receivedAt: Date): Promise<WriteResult> {
    if (messages.every((m) => m.type === 'track')) return this.tracks.submit({ messages, receivedAt });
    return this.db.transaction(async (tx) => {
      const known = await this.knownMessageIds(tx, messages.filter((m) => m.type !== 'track').map((m) => m.messageId));
      const fresh = messages.filter((m) => m.type === 'track' || !known.has(m.messageId));
      await this.applyIdentifies(tx, fresh.filter((m) => m.type === 'identify'), receivedAt);
      await this.applyGroups(tx, fresh.filter((m) => m.type === 'group'), receivedAt);
      const [result] = await this.writeEvents(tx, [{ messages, receivedAt }], true);
      return result;
    });
  }

  /**
   * One statement, autocommitted; run again on deadlock or serialization failure. It first
   * runs as the plain statement (no per-row lookup of the messageId, no speculative
   * insertion: less CPU and WAL per event); if a messageId is already stored, repeated in
   * the group, or committed first by a concurrent statement, it fails whole on the unique
   * key and runs again as the deduplicating statement.
   */
  private async writeEventsRetrying(requests: EventsRequest[]): Promise<WriteResult[]> {
    const plain: Tx = { query: (sql, params) => this.db.query(sql, params) };
    ingestStatements.inc({ count: 'statements' });
    ingestStatements.inc({ count: 'requests' }, requests.length);
    let deduplicate = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writeEvents(plain, requests, deduplicate);
      } catch (err) {
        if (!deduplicate && sqlState(err) === '23505') {
          deduplicate = true;
          continue;
        }
        if (!isRetryable(err) || attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
  }

  private async knownMessageIds(tx: Tx, ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await tx.query<{ message_id: string }>('SELECT message_id FROM events WHERE message_id = ANY($1::text[])', [ids]);
    return new Set(rows.map((r) => r.message_id));
  }

  private async applyIdentifies(tx: Tx, messages: NormalizedMessage[], now: Date): Promise<void> {
    const byUser = new Map<string, ContactFields & { at: Date }>();
    for (const m of messages) {
      if (!m.userId || !m.contact) continue; // anonymous identify: nothing to attach traits to
      const prev = byUser.get(m.userId);
      byUser.set(m.userId, { ...merge(prev, { ...m.contact, at: m.occurredAt }), at: prev && prev.at < m.occurredAt ? prev.at : m.occurredAt });
    }
    if (!byUser.size) return;
    const rows = [...byUser.entries()].map(([externalId, c]) => ({
      external_id: externalId,
      email: c.email ?? null,
      name: c.name ?? null,
      role: c.role ?? null,
      locale: c.locale ?? null,
      timezone: c.timezone ?? null,
      traits: c.traits,
      consent_marketing: c.consentMarketing ?? null,
      consent_source: c.consentSource ?? null,
      consent_at: c.consentMarketing === undefined ? null : (c.consentAt ?? c.at.toISOString()),
      // A backfilled identify dates the contact from the message, not from the import.
      created_at: (c.at < now ? c.at : now).toISOString(),
    }));
    await tx.query(
      `INSERT INTO contacts AS c (external_id, email, name, role, locale, timezone, traits,
                                  consent_marketing, consent_source, consent_at, created_at, updated_at)
       SELECT x.external_id, x.email, x.name, x.role, x.locale, x.timezone, COALESCE(x.traits, '{}'::jsonb),
              x.consent_marketing, x.consent_source, x.consent_at, x.created_at, $2
         FROM jsonb_to_recordset($1::jsonb) AS x(external_id text, email text, name text, role text, locale text,
              timezone text, traits jsonb, consent_marketing boolean, consent_source text, consent_at timestamptz,
              created_at timestamptz)
        ORDER BY x.external_id
       ON CONFLICT (external_id) DO UPDATE SET
         email = COALESCE(EXCLUDED.email, c.email),
         name = COALESCE(EXCLUDED.name, c.name),
         role = COALESCE(EXCLUDED.role, c.role),
         locale = COALESCE(EXCLUDED.locale, c.locale),
         timezone = COALESCE(EXCLUDED.timezone, c.timezone),
         traits = c.traits || EXCLUDED.traits,
         consent_marketing = COALESCE(EXCLUDED.consent_marketing, c.consent_marketing),
         consent_source = CASE WHEN EXCLUDED.consent_marketing IS NULL THEN c.consent_source ELSE EXCLUDED.consent_source END,
         consent_at = CASE WHEN EXCLUDED.consent_marketing IS NULL THEN c.consent_at ELSE EXCLUDED.consent_at END,
         created_at = LEAST(c.created_at, EXCLUDED.created_at),
         updated_at = EXCLUDED.updated_at`,
      [JSON.stringify(rows), now.toISOString()],
    );
  }

  private async applyGroups(tx: Tx, messages: NormalizedMessage[], now: Date): Promise<void> {
    if (!messages.length) return;
    const byGroup = new Map<string, AccountFields>();
    for (const m of messages) byGroup.set(m.groupId!, merge(byGroup.get(m.groupId!), m.account!));
    const rows = [...byGroup.entries()].map(([externalId, a]) => ({
      external_id: externalId,
      name: a.name ?? null,
      plan: a.plan ?? null,
      mrr: a.mrr ?? null,
      size_segment: a.sizeSegment ?? null,
      region: a.region ?? null,
      phase: a.phase ?? null,
      contract_start: a.contractStart ?? null,
      renewal_date: a.renewalDate ?? null,
      csm_set: a.csmOwner !== undefined,
      csm_owner: a.csmOwner ?? null,
      high_touch: a.highTouch ?? null,
      seats: a.seats ?? null,
      timezone: a.timezone ?? null,
      locale: a.locale ?? null,
      traits: a.traits,
    }));
    const accounts = await this.resolveIds(tx, 'accounts', [...byGroup.keys()], now);
    await tx.query(
      `UPDATE accounts a SET
         name = COALESCE(x.name, a.name),
         plan = COALESCE(x.plan, a.plan),
         mrr = COALESCE(x.mrr, a.mrr),
         size_segment = COALESCE(x.size_segment, a.size_segment),
         region = COALESCE(x.region, a.region),
         phase = COALESCE(x.phase, a.phase),
         contract_start = COALESCE(x.contract_start, a.contract_start),
         renewal_date = COALESCE(x.renewal_date, a.renewal_date),
         csm_owner = CASE WHEN x.csm_set THEN x.csm_owner ELSE a.csm_owner END,
         high_touch = COALESCE(x.high_touch, a.high_touch),
         seats = COALESCE(x.seats, a.seats),
         timezone = COALESCE(x.timezone, a.timezone),
         locale = COALESCE(x.locale, a.locale),
         traits = a.traits || COALESCE(x.traits, '{}'::jsonb),
         updated_at = $2
        FROM jsonb_to_recordset($1::jsonb) AS x(external_id text, name text, plan text, mrr numeric, size_segment text,
             region text, phase text, contract_start date, renewal_date date, csm_set boolean, csm_owner text,
             high_touch boolean, seats integer, timezone text, locale text, traits jsonb)
       WHERE a.external_id = x.external_id`,
      [JSON.stringify(rows), now.toISOString()],
    );
    const links = messages.filter((m) => m.userId).map((m) => ({ user: m.userId!, group: m.groupId!, at: m.occurredAt.toISOString() }));
    if (!links.length) return;
    const contacts = await this.resolveIds(tx, 'contacts', links.map((l) => l.user), now);
    const pairs = links.map((l) => ({ contact_id: contacts.get(l.user)!, account_id: accounts.get(l.group)!, joined_at: l.at }));
    await tx.query(
      `INSERT INTO account_contacts (account_id, contact_id, joined_at)
       SELECT x.account_id, x.contact_id, min(x.joined_at)
         FROM jsonb_to_recordset($1::jsonb) AS x(account_id bigint, contact_id bigint, joined_at timestamptz)
        GROUP BY 1, 2 ORDER BY 1, 2
       ON CONFLICT (account_id, contact_id) DO NOTHING`,
      [JSON.stringify(pairs)],
    );
    // A contact's primary account is the first one it joined. Usage recorded before that
    // (account 0 in the rollups) moves to it, so early signals are not lost.
    await tx.query(
      `WITH first_link AS (
         SELECT DISTINCT ON (x.contact_id) x.contact_id, x.account_id
           FROM jsonb_to_recordset($1::jsonb) AS x(account_id bigint, contact_id bigint, joined_at timestamptz)
          ORDER BY x.contact_id, x.joined_at
       ), newly AS (
         UPDATE contacts c SET account_id = f.account_id, updated_at = $2
           FROM first_link f WHERE c.id = f.contact_id AND c.account_id IS NULL
         RETURNING c.id, c.account_id
       ), moved AS (
         DELETE FROM event_rollups r USING newly n WHERE r.account_id = 0 AND r.contact_id = n.id
         RETURNING n.account_id, r.event, r.day, r.contact_id, r.count, r.first_at, r.last_at
       )
       INSERT INTO event_rollups AS r (account_id, event, day, contact_id, count, first_at, last_at)
       SELECT * FROM moved ORDER BY 1, 2, 3, 4
       ON CONFLICT (account_id, event, day, contact_id) DO UPDATE SET
         count = r.count + EXCLUDED.count,
         first_at = LEAST(r.first_at, EXCLUDED.first_at),
         last_at = GREATEST(r.last_at, EXCLUDED.last_at)`,
      [JSON.stringify(pairs), now.toISOString()],
    );
  }

  /** Row ids of contacts or accounts by external id, creating stubs for unknown ones. */
  private async resolveIds(tx: Tx, table: 'contacts' | 'accounts', externalIds: string[], now: Date): Promise<Map<string, string>> {
    const ids = [...new Set(externalIds)].sort();
    const out = new Map<string, string>();
    if (!ids.length) return out;
    // `table` is one of two fixed identifiers, never user text.
    const rows = await tx.query<{ id: string; external_id: string }>(
      `WITH ins AS (
         INSERT INTO ${table} (external_id, created_at, updated_at)
         SELECT x, $2, $2 FROM unnest($1::text[]) AS x ORDER BY x
         ON CONFLICT (external_id) DO NOTHING
         RETURNING id, external_id
       )
       SELECT id, external_id FROM ins
       UNION ALL
       SELECT id, external_id FROM ${table} WHERE external_id = ANY($1::text[])`,
      [ids, now.toISOString()],
    );
    for (const r of rows) out.set(r.external_id, r.id);
    return out;
  }

  /**
   * Raw events and their rollups in ONE statement (one round trip, one commit) for several
   * requests at once (group commit); see events-statement.ts. `deduplicate` false: the plain
   * statement, prepared once per connection, which fails whole (23505) if any messageId is
   * already stored or repeated; true: the statement that skips those (a re-sent messageId is
   * answered as a duplicate; within the statement the first occurrence wins, in request
   * order). Returns one result per request. The rows travel as one JSON array (serialised
   * natively, parsed once by jsonb).
   */
  private async writeEvents(tx: Tx, requests: EventsRequest[], deduplicate: boolean): Promise<WriteResult[]> {
    const rows: unknown[] = [];
    requests.forEach(({ messages }, req) => {
      for (const m of messages) {
        rows.push([m.messageId, m.type, m.event ?? null, m.properties, m.occurredAt.toISOString(), m.userId ?? null, m.groupId ?? null, m.anonymousId ?? null, req + 1]);
      }
    });
    const params = [JSON.stringify(rows), requests.map((r) => r.receivedAt.toISOString())];
    if (!deduplicate) {
      const [{ inserted }] = await this.db.prepared<{ inserted: number }>('ingest_events_plain', INSERT_EVENTS_PLAIN, params);
      if (Number(inserted) !== rows.length) throw new Error(`ingestion: ${inserted} of ${rows.length} events inserted by the plain statement`);
      return requests.map(({ messages }) => ({ inserted: messages.length, duplicates: 0 }));
    }
    const result = await tx.query<{ req: number; inserted: number }>(INSERT_EVENTS_DEDUPLICATING, params);
    const inserted = new Map(result.map((r) => [Number(r.req), Number(r.inserted)]));
    return requests.map(({ messages }, req) => {
      const n = inserted.get(req + 1) ?? 0;
      return { inserted: n, duplicates: messages.length - n };
    });
  }
}

export interface EventsRequest {
  messages: NormalizedMessage[];
  receivedAt: Date;
}

function sqlState(err: unknown): string | undefined {
  return (err as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
}

/** Later fields override earlier ones; traits merge. */
function merge<T extends { traits: Record<string, unknown> }>(prev: T | undefined, next: T): T {
  if (!prev) return next;
  const out = { ...prev } as Record<string, unknown>;
  for (const [k, v] of Object.entries(next)) if (v !== undefined && k !== 'traits') out[k] = v;
  out.traits = { ...prev.traits, ...next.traits };
  return out as T;
}
