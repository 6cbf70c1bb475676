import { Injectable } from '@nestjs/common';
import { Db, Tx } from '../database/db';
import { Journey } from '../journeys/journey';

export interface StoredJourney {
  key: string;
  name: string;
  status: 'active' | 'paused' | 'archived';
  currentVersionId: string | null;
  source: string | null;
  nextFireAt: Date | null;
}

export interface StoredVersion {
  id: string;
  journeyKey: string;
  version: number;
  contentHash: string;
  journey: Journey;
}

/** Journeys and their immutable versions (a version is the validated journey, as JSON). */
@Injectable()
export class JourneyVersionsRepository {
  constructor(private readonly db: Db) {}

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      // One sync at a time across all processes (workers start together).
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('touchline:journey-sync'))`);
      return work(tx);
    });
  }

  async all(tx: Tx = this.db): Promise<StoredJourney[]> {
    const rows = await tx.query(`SELECT key, name, status, current_version_id, source, next_fire_at FROM journeys ORDER BY key`);
    return rows.map(toJourney);
  }

  async get(key: string): Promise<StoredJourney | undefined> {
    const rows = await this.db.query(`SELECT key, name, status, current_version_id, source, next_fire_at FROM journeys WHERE key = $1`, [key]);
    return rows[0] ? toJourney(rows[0]) : undefined;
  }

  /** Upserts the journey row and its version for this content; returns the version and whether it is new. */
  async store(tx: Tx, journey: Journey, hash: string, now: Date): Promise<{ versionId: string; version: number; created: boolean }> {
    await tx.query(
      `INSERT INTO journeys (key, name, status, source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, source = EXCLUDED.source,
         status = EXCLUDED.status, archived_at = NULL, archived_reason = NULL,
         updated_at = CASE WHEN journeys.status = EXCLUDED.status AND journeys.name = EXCLUDED.name THEN journeys.updated_at ELSE EXCLUDED.updated_at END`,
      [journey.key, journey.name, journey.status, journey.source ?? null, now],
    );
    const existing = await tx.query<{ id: string; version: number }>(`SELECT id, version FROM journey_versions WHERE journey_key = $1 AND content_hash = $2`, [journey.key, hash]);
    let versionId: string;
    let version: number;
    let created = false;
    if (existing[0]) {
      versionId = existing[0].id;
      version = existing[0].version;
    } else {
      const [row] = await tx.query<{ id: string; version: number }>(
        `INSERT INTO journey_versions (journey_key, version, content_hash, definition, created_at)
         SELECT $1, COALESCE(max(version), 0) + 1, $2, $3::jsonb, $4 FROM journey_versions WHERE journey_key = $1
         RETURNING id, version`,
        [journey.key, hash, JSON.stringify(journey), now],
      );
      versionId = row.id;
      version = row.version;
      created = true;
    }
    await tx.query(`UPDATE journeys SET current_version_id = $2 WHERE key = $1 AND current_version_id IS DISTINCT FROM $2`, [journey.key, versionId]);
    return { versionId, version, created };
  }

  /** Event triggers count events from the journey's first load on (the cursor starts at this snapshot). */
  async initEventCursor(tx: Tx, key: string, now: Date): Promise<void> {
    await tx.query(`INSERT INTO engine_cursors (name, snapshot, updated_at) VALUES ($1, pg_current_snapshot()::text, $2) ON CONFLICT (name) DO NOTHING`, [eventCursorName(key), now]);
  }

  async setNextFire(tx: Tx, key: string, at: Date | null): Promise<void> {
    await tx.query(`UPDATE journeys SET next_fire_at = $2 WHERE key = $1`, [key, at]);
  }

  /** Archives a journey and ends its running enrollments with the reason (recorded in their history). */
  async archive(tx: Tx, key: string, reason: string, now: Date): Promise<number> {
    await tx.query(`UPDATE journeys SET status = 'archived', archived_at = $2, archived_reason = $3, next_fire_at = NULL, updated_at = $2 WHERE key = $1`, [key, now, reason]);
    const [row] = await tx.query<{ n: string }>(
      `WITH ended AS (
         UPDATE enrollments SET status = 'ended', end_reason = $3, ended_at = $2, due_at = NULL, updated_at = $2
          WHERE journey_key = $1 AND status = 'active'
          RETURNING id, step_id
       ), hist AS (
         INSERT INTO enrollment_history (enrollment_id, step_id, outcome, reason, at)
         SELECT id, step_id, 'ended', $3, $2 FROM ended
       )
       SELECT count(*) AS n FROM ended`,
      [key, now, reason],
    );
    await tx.query(`DELETE FROM trigger_state WHERE journey_key = $1`, [key]);
    return Number(row.n);
  }

  async setStatus(key: string, status: 'active' | 'paused', now: Date): Promise<void> {
    await this.db.query(`UPDATE journeys SET status = $2, updated_at = $3 WHERE key = $1 AND status <> 'archived'`, [key, status, now]);
  }

  /** Versions by id (immutable, so callers may cache them forever). */
  async versions(ids: string[]): Promise<StoredVersion[]> {
    if (!ids.length) return [];
    const rows = await this.db.query(`SELECT id, journey_key, version, content_hash, definition FROM journey_versions WHERE id = ANY($1::bigint[])`, [ids]);
    return rows.map((r) => ({ id: String(r.id), journeyKey: r.journey_key, version: r.version, contentHash: r.content_hash, journey: r.definition as Journey }));
  }

  /** Active journeys with their current version (what triggers enroll into). */
  async activeCurrent(): Promise<{ key: string; versionId: string; nextFireAt: Date | null }[]> {
    const rows = await this.db.query(`SELECT key, current_version_id, next_fire_at FROM journeys WHERE status = 'active' AND current_version_id IS NOT NULL ORDER BY key`);
    return rows.map((r) => ({ key: r.key, versionId: String(r.current_version_id), nextFireAt: r.next_fire_at }));
  }

  /** Every version of every non-archived journey (running enrollments may be on older ones). */
  async liveVersionIds(): Promise<string[]> {
    const rows = await this.db.query(`SELECT v.id FROM journey_versions v JOIN journeys j ON j.key = v.journey_key WHERE j.status <> 'archived'`);
    return rows.map((r) => String(r.id));
  }

  async activeKeys(): Promise<string[]> {
    const rows = await this.db.query<{ key: string }>(`SELECT key FROM journeys WHERE status = 'active'`);
    return rows.map((r) => r.key);
  }
}

function toJourney(r: any): StoredJourney {
  return {
    key: r.key,
    name: r.name,
    status: r.status,
    currentVersionId: r.current_version_id === null ? null : String(r.current_version_id),
    source: r.source,
    nextFireAt: r.next_fire_at,
  };
}

export function eventCursorName(journeyKey: string): string {
  return `journey:${journeyKey}`;
}
