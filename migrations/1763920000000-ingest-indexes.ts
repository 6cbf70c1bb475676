import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cheaper ingestion (each index on `events` is written once per event; each rollup is
 * updated once per event of its key):
 * - `events`: the primary key is `message_id`, the key ingestion deduplicates on; the
 *   btree on `id` goes (nothing looks an event up by id: `id` only orders events inside
 *   `events_people_idx` and the trigger statements, which read them by `xid`).
 * - `events (account_id, occurred_at)` btree → BRIN on `occurred_at`: only `journeys
 *   simulate` reads events by time window (by account or contact, event name and time),
 *   and live ingestion appends in time order; a BRIN entry is written once per 32 pages,
 *   not once per event.
 * - `event_rollups` fillfactor 85 → 50: each rollup is updated by every event of its key;
 *   with room on its page the update is heap-only (no new entries in its three indexes).
 *   Applies to pages written from now on.
 * The rebuilt primary key takes a lock on `events` for the time of one index build.
 */
export class IngestIndexes1763920000000 implements MigrationInterface {
  name = 'IngestIndexes1763920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events DROP CONSTRAINT events_pkey, DROP CONSTRAINT events_message_id_key, ADD CONSTRAINT events_pkey PRIMARY KEY (message_id)`);
    await q.query(`DROP INDEX events_account_time_idx`);
    await q.query(`CREATE INDEX events_occurred_brin ON events USING brin (occurred_at) WITH (pages_per_range = 32, autosummarize = on)`);
    await q.query(`ALTER TABLE event_rollups SET (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE event_rollups SET (fillfactor = 85)`);
    await q.query(`DROP INDEX events_occurred_brin`);
    await q.query(`CREATE INDEX events_account_time_idx ON events (account_id, occurred_at DESC)`);
    await q.query(
      `ALTER TABLE events DROP CONSTRAINT events_pkey, ADD CONSTRAINT events_pkey PRIMARY KEY (id), ADD CONSTRAINT events_message_id_key UNIQUE (message_id)`,
    );
  }
}
