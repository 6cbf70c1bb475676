/**
 * The statement that writes track (and other) events with their rollups, in two shapes.
 * Both take `$1` (a JSON array of rows: messageId, type, name, properties, occurredAt,
 * userId, groupId, anonymousId, request number) and `$2` (each request's receivedAt), resolve
 * the people by external id inside the statement (stubs created for unknown ones), insert
 * the events and upsert the rollups of exactly the rows inserted, in key order.
 */

/**
 * The people of the input named by `column` (external ids) in `table`: `known_<x>` the stored
 * ones, `new_<x>` stubs inserted for the others (a concurrent insert of the same id is taken
 * as found), `all` both. `returned` are the columns the events need.
 */
const resolve = (x: string, all: string, table: string, column: string, returned: string) => {
  const cols = returned.split(', ').map((c) => `${x}.${c}`).join(', ');
  return `known_${x} AS (
    SELECT ${cols} FROM ${table} ${x}
     WHERE ${x}.external_id = ANY(ARRAY(SELECT DISTINCT ${column} FROM input WHERE ${column} IS NOT NULL))
  ), new_${x} AS (
    INSERT INTO ${table} AS ${x} (external_id, created_at, updated_at)
    SELECT i.${column}, min(i.received_at), min(i.received_at) FROM input i
     WHERE i.${column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM known_${x} k WHERE k.external_id = i.${column})
     GROUP BY 1 ORDER BY 1
    ON CONFLICT (external_id) DO UPDATE SET updated_at = ${x}.updated_at
    RETURNING ${cols}
  ), ${all} AS (
    SELECT * FROM known_${x} UNION ALL SELECT * FROM new_${x}
  )`;
};

const PEOPLE = `
  input AS (
    SELECT r->>0 AS message_id, r->>1 AS type, r->>2 AS name, r->3 AS properties, (r->>4)::timestamptz AS occurred_at,
           r->>5 AS user_id, r->>6 AS group_id, r->>7 AS anonymous_id, (r->>8)::int AS req, ord,
           ($2::timestamptz[])[(r->>8)::int] AS received_at
      FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(r, ord)
  ), ${resolve('c', 'cs', 'contacts', 'user_id', 'id, external_id, account_id')}, ${resolve('a', 'acs', 'accounts', 'group_id', 'id, external_id')}`;

const INSERT_FROM = (source: string) => `
    INSERT INTO events (message_id, type, name, properties, occurred_at, received_at, account_id, contact_id, anonymous_id)
    SELECT i.message_id, i.type, i.name, i.properties, i.occurred_at, i.received_at, COALESCE(acs.id, cs.account_id), cs.id, i.anonymous_id
      FROM ${source} i LEFT JOIN cs ON cs.external_id = i.user_id LEFT JOIN acs ON acs.external_id = i.group_id
     ORDER BY i.ord`;

const ROLLUPS = `
  agg AS (
    SELECT COALESCE(account_id, 0) AS account_id, name AS event, (occurred_at AT TIME ZONE 'UTC')::date AS day,
           COALESCE(contact_id, 0) AS contact_id, count(*)::int AS n, min(occurred_at) AS first_at, max(occurred_at) AS last_at,
           min(received_at) AS seen_at
      FROM ins WHERE type = 'track' AND (account_id IS NOT NULL OR contact_id IS NOT NULL)
     GROUP BY 1, 2, 3, 4
  ), rolled AS (
    INSERT INTO event_rollups AS r (account_id, event, day, contact_id, count, first_at, last_at)
    SELECT account_id, event, day, contact_id, n, first_at, last_at FROM agg ORDER BY 1, 2, 3, 4
    ON CONFLICT (account_id, event, day, contact_id) DO UPDATE SET
      count = r.count + EXCLUDED.count,
      first_at = LEAST(r.first_at, EXCLUDED.first_at),
      last_at = GREATEST(r.last_at, EXCLUDED.last_at)
  ), names AS (
    INSERT INTO event_names (name, first_seen)
    SELECT d.event, d.first_seen FROM (SELECT event, min(seen_at) AS first_seen FROM agg GROUP BY 1) d
     WHERE NOT EXISTS (SELECT 1 FROM event_names n WHERE n.name = d.event)
     ORDER BY 1
    ON CONFLICT (name) DO NOTHING
  )`;

/**
 * Every row is inserted, or the statement fails (23505 on `events_pkey` when a messageId is
 * already stored, or appears twice in `$1`): no per-row lookup of the messageId beforehand,
 * no sort by it, no speculative insertion. One fixed text, so it is run as a named prepared
 * statement. Returns `inserted` (the number of rows, always all of them).
 */
export const INSERT_EVENTS_PLAIN = `WITH ${PEOPLE}, ins AS (${INSERT_FROM('input')}
    RETURNING type, name, occurred_at, received_at, account_id, contact_id
  ), ${ROLLUPS}
  SELECT count(*)::int AS inserted FROM ins`;

/**
 * Skips messageIds already stored; within the statement the first occurrence (in input
 * order) wins; `ON CONFLICT DO NOTHING` covers one committed meanwhile by a concurrent
 * writer. Returns `inserted` per request number (`req`).
 */
export const INSERT_EVENTS_DEDUPLICATING = `WITH ${PEOPLE}, fresh AS (
    SELECT DISTINCT ON (i.message_id) i.* FROM input i
     WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.message_id = i.message_id)
     ORDER BY i.message_id, i.ord
  ), ins AS (${INSERT_FROM('fresh')}
    ON CONFLICT (message_id) DO NOTHING
    RETURNING message_id, type, name, occurred_at, received_at, account_id, contact_id
  ), ${ROLLUPS}
  SELECT f.req, count(*)::int AS inserted FROM fresh f WHERE f.message_id IN (SELECT message_id FROM ins) GROUP BY f.req`;
