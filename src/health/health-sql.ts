import { signalSql } from '../signals/signal-sql';
import { SqlParams } from '../signals/sql-params';
import { Component, HealthModel, PHASES, Points, slope, usageWindowDays } from './health-model';

/**
 * The set-based recompute, in two statements. `stageSql` measures every component for all
 * accounts and computes each component's points, weight and the weight total (into a staging
 * table); `scoredSql` reads that table and adds the score, the band and the components' JSON
 * (into the scratch table the writes read, `WRITE_SQL`). The second statement has no CTE, so
 * PostgreSQL can run it in parallel workers: building and parsing the JSON is a third of the
 * recompute's CPU, and workers cannot read a temporary table, so the staging table is an
 * unlogged one that lives inside the recompute's transaction. Formulas are those of
 * `health-model.ts`, in the same floating-point order, so the two agree exactly (tests hold
 * them to each other).
 *
 * Usage windows come from one pass over `event_rollups` (recent days only, two hash
 * aggregates); "days since last" uses the signals builder (an index probe per account and
 * event). `vals` and `pts` are materialized so that each value and each component's points
 * are computed once per account, not once per reference.
 * Email engagement, NPS and hand-offs are each one grouped pass over their own table.
 */
export interface RecomputeSql {
  sql: string;
  params: unknown[];
}

/** The accounts of one shard of a recompute: ids from `lo` to `hi`, both included (int8 as text). */
export interface ShardRange {
  lo: string;
  hi: string;
}

/**
 * Rows (account_id, phase, profile, green, yellow, v0…, p0…, w0…, total, total_points,
 * has_current, has_snapshot); `$1` is today's UTC date, `$2` the clock's now. Whether each
 * account already has a current row and today's snapshot is read before writing, so that the
 * writes need no anti-join against a table they are filling (whose plan can go quadratic when
 * the table's statistics say it is empty); it is read here because a subquery per row would
 * keep the next statement's JSON out of the parallel workers.
 */
export function stageSql(model: HealthModel, today: string, now: Date, shard?: ShardRange): RecomputeSql {
  const p = new SqlParams([today, now.toISOString()]);
  const T = '$1::date';
  const NOW = '$2::timestamptz';
  // Only the shard's accounts, in every pass: a range of the key each table's index starts with.
  const bounds = shard ? [p.add(shard.lo, 'int8'), p.add(shard.hi, 'int8')] : undefined;
  const ofShard = (column: string) => (bounds ? ` AND ${column} BETWEEN ${bounds[0]} AND ${bounds[1]}` : '');
  const usage: { level1?: string; level2: string }[] = [];
  const ctes: string[] = [];
  const joins: string[] = [];
  const values: string[] = [];

  const windowDays = usageWindowDays(model);
  model.components.forEach((c, i) => {
    const m = c.measure;
    // Rows are already limited to the usage window (and to days up to today), so a component
    // whose window is the whole usage window needs no filter of its own.
    const within = (days: number, extra?: string) => {
      const parts = [...(days < windowDays ? [`r.day > ${T} - ${p.add(days, 'int')}`] : []), ...(extra ? [extra] : [])];
      return parts.length ? parts.join(' AND ') : 'true';
    };
    switch (m.kind) {
      case 'days_since_last': {
        // The window pass already sees the latest use of nearly every active account; only
        // accounts without one in the window need the index probe of the signals builder.
        usage.push({ level1: `max(r.day) FILTER (WHERE ${eventIn(m.events, p)}) AS u${i}`, level2: `max(u${i}) AS u${i}` });
        const probes = m.events.map((event) => signalSql({ kind: 'days_since_last', event }, { subject: 'account', account: 'a.id', accountRow: 'a' }, p, T));
        // days_since_last is (today - max(day)); the smallest over the events is the latest use.
        values.push(`COALESCE(${T} - u.u${i}, ${probes.length > 1 ? `LEAST(${probes.join(', ')})` : probes[0]})::float8`);
        break;
      }
      case 'frequency_change': {
        const ev = eventIn(m.events, p);
        const earlier = `r.day > ${T} - ${p.add(2 * m.days, 'int')} AND r.day <= ${T} - ${p.add(m.days, 'int')} AND ${ev}`;
        usage.push({ level1: `sum(r.count) FILTER (WHERE ${within(m.days, ev)}) AS u${i}_recent`, level2: `COALESCE(sum(u${i}_recent), 0) AS u${i}_recent` });
        usage.push({ level1: `sum(r.count) FILTER (WHERE ${earlier}) AS u${i}_earlier`, level2: `COALESCE(sum(u${i}_earlier), 0) AS u${i}_earlier` });
        const recent = `COALESCE(u.u${i}_recent, 0)`;
        const before = `COALESCE(u.u${i}_earlier, 0)`;
        values.push(`CASE WHEN ${recent} = 0 AND ${before} = 0 THEN NULL ELSE ${recent}::float8 / GREATEST(${before}, 1)::float8 END`);
        break;
      }
      case 'feature_breadth': {
        // Distinct key features: one bit per listed event (63 to a bigint), OR-ed over the
        // window; the value is the number of bits set.
        const events = [...new Set(m.events)];
        const counts: string[] = [];
        for (let k = 0; k * 63 < events.length; k++) {
          const arms = events.slice(k * 63, (k + 1) * 63).map((e, b) => `WHEN ${p.add(e, 'text')} THEN ${p.add((1n << BigInt(b)).toString(), 'int8')}`);
          usage.push({ level1: `${filtered(`bit_or(CASE r.event ${arms.join(' ')} END)`, within(m.days))} AS u${i}_${k}`, level2: `bit_or(u${i}_${k}) AS u${i}_${k}` });
          counts.push(`COALESCE(bit_count(u.u${i}_${k}::bit(64)), 0)`);
        }
        values.push(`(${counts.join(' + ')})::float8`);
        break;
      }
      case 'active_users': {
        // Distinct contacts: the first level's (account, contact) groups active in the window.
        // Unfiltered (the whole usage window, any event), every first-level group counts: no
        // per-row aggregate is needed.
        const ev = m.event ? `r.event = ${p.add(m.event, 'text')}` : undefined;
        const active = within(m.days, ev);
        if (active === 'true') usage.push({ level2: `count(*) FILTER (WHERE contact_id <> 0) AS u${i}` });
        else usage.push({ level1: `bool_or(${active}) AS u${i}`, level2: `count(*) FILTER (WHERE contact_id <> 0 AND u${i}) AS u${i}` });
        values.push(`CASE WHEN a.seats > 0 THEN COALESCE(u.u${i}, 0)::float8 / a.seats::float8 END`);
        break;
      }
      case 'email_engagement':
        // A message counts as engaged when a person (not a prefetcher or scanner) opened or clicked it.
        ctes.push(`e${i} AS (
          SELECT m.account_id, count(*) AS sent,
                 count(*) FILTER (WHERE EXISTS (SELECT 1 FROM engagement_events ev WHERE ev.message_id = m.id AND ev.kind IN ('open','click') AND NOT ev.machine)) AS engaged
            FROM messages m
           WHERE m.status = 'sent' AND m.account_id IS NOT NULL AND m.sent_at > ${NOW} - make_interval(days => ${p.add(m.days, 'int')}) AND m.sent_at <= ${NOW}${ofShard('m.account_id')}
           GROUP BY m.account_id)`);
        joins.push(`LEFT JOIN e${i} ON e${i}.account_id = a.id`);
        values.push(`CASE WHEN e${i}.sent > 0 THEN e${i}.engaged::float8 / e${i}.sent::float8 END`);
        break;
      case 'nps':
        ctes.push(`e${i} AS (
          SELECT DISTINCT ON (ev.account_id) ev.account_id, (ev.data->>'score')::float8 AS score
            FROM engagement_events ev
           WHERE ev.kind = 'survey' AND ev.data->>'kind' = 'nps' AND jsonb_typeof(ev.data->'score') = 'number' AND NOT ev.machine
             AND ev.account_id IS NOT NULL AND ev.occurred_at > ${NOW} - make_interval(days => ${p.add(m.days, 'int')}) AND ev.occurred_at <= ${NOW}${ofShard('ev.account_id')}
           ORDER BY ev.account_id, ev.occurred_at DESC, ev.id DESC)`);
        joins.push(`LEFT JOIN e${i} ON e${i}.account_id = a.id`);
        values.push(`e${i}.score`);
        break;
      case 'open_handoffs':
        ctes.push(`e${i} AS (SELECT h.account_id, count(*) AS open FROM handoffs h WHERE h.status <> 'closed'${ofShard('h.account_id')} GROUP BY h.account_id)`);
        joins.push(`LEFT JOIN e${i} ON e${i}.account_id = a.id`);
        values.push(`COALESCE(e${i}.open, 0)::float8`);
        break;
    }
  });

  if (usage.length) {
    // Two hash aggregates, both keyed by fewer groups than the rollups have rows: per
    // (account, contact) first, then per account. Distinct contacts are the first level's
    // groups; distinct key features are bits OR-ed together (no DISTINCT aggregate, which would
    // sort every rollup row). Each first-level value is one that the second level can combine.
    ctes.unshift(`u1 AS (
      SELECT ${['r.account_id', 'r.contact_id', ...usage.flatMap((u) => (u.level1 ? [u.level1] : []))].join(',\n             ')}
        FROM event_rollups r
       WHERE r.day > ${T} - ${p.add(usageWindowDays(model), 'int')} AND r.day <= ${T}${ofShard('r.account_id')}
       GROUP BY r.account_id, r.contact_id),
    u AS (
      SELECT account_id, ${usage.map((u) => u.level2).join(',\n             ')}
        FROM u1 GROUP BY account_id)`);
    joins.unshift('LEFT JOIN u ON u.account_id = a.id');
  }

  const idx = [...model.components.keys()];
  const weight = (c: Component) => perPhase(model, p, (w) => w.weights[c.name] ?? c.weight, c.weight);
  const green = perPhase(model, p, (w) => w.bands.green, model.bands.green);
  const yellow = perPhase(model, p, (w) => w.bands.yellow, model.bands.yellow);
  const profile = `CASE WHEN v.phase = ANY(${p.add(Object.keys(model.profiles), 'text[]')}) THEN v.phase ELSE 'default' END`;
  const counted = (i: number) => `CASE WHEN p${i} IS NOT NULL THEN w${i} ELSE 0::float8 END`;
  const product = (i: number) => `COALESCE(w${i} * p${i}, 0::float8)`;

  const staged = `
    vals AS MATERIALIZED (
      SELECT a.id AS account_id, a.phase, ${values.map((v, i) => `${v} AS v${i}`).join(',\n             ')}
        FROM accounts a
        ${joins.join('\n        ')}${bounds ? `\n       WHERE true${ofShard('a.id')}` : ''}),
    pts AS MATERIALIZED (
      SELECT v.*, ${profile} AS profile, ${green} AS green, ${yellow} AS yellow,
             ${idx.map((i) => `${pointsSql(model.components[i], `v${i}`, p)} AS p${i}, ${weight(model.components[i])} AS w${i}`).join(',\n             ')}
        FROM vals v)`;
  return {
    sql: `WITH ${[...ctes, staged].join(',\n    ')}
    SELECT pts.*, (${idx.map(counted).join(' + ')}) AS total, (${idx.map(product).join(' + ')}) AS total_points,
           EXISTS (SELECT 1 FROM account_health h WHERE h.account_id = pts.account_id) AS has_current,
           EXISTS (SELECT 1 FROM health_snapshots d WHERE d.account_id = pts.account_id AND d.day = ${T}) AS has_snapshot
      FROM pts`,
    params: p.values,
  };
}

/**
 * Rows (account_id, profile, score, band, components, has_current, has_snapshot) from the
 * staging table `stage` (the result of `stageSql`).
 */
export function scoredSql(model: HealthModel, stage: string): RecomputeSql {
  const p = new SqlParams();
  // The components' JSON is written as text and stored as json (checked, not parsed into
  // jsonb: nothing queries inside it). jsonb_build_object would turn each of the 28 numbers to
  // text and back on its own. The text holds the numerals jsonb_build_object would give
  // (numeric_out of the rounded values, float8out of the weights).
  const componentJson = model.components
    .map((c, i) => {
      const head = p.add(`${i ? ', ' : '{'}${JSON.stringify(c.name)}: {"value": `, 'text');
      const contribution = `CASE WHEN p${i} IS NOT NULL AND w${i} > 0 AND total > 0 THEN ${roundedText(`(w${i} * p${i} / total)`, 2)} ELSE '0' END`;
      return `${head}, COALESCE(${roundedText(`v${i}`, 4)}, 'null'), ', "points": ', COALESCE(${roundedText(`p${i}`, 2)}, 'null'), ', "weight": ', w${i}::text, ', "contribution": ', ${contribution}, '}'`;
    })
    .join(',\n      ');
  return {
    sql: `
    SELECT s.account_id, s.profile, s.score,
           CASE WHEN s.score >= s.green THEN 'green' WHEN s.score >= s.yellow THEN 'yellow' ELSE 'red' END AS band,
           concat(${componentJson}, '}')::json AS components, s.has_current, s.has_snapshot
      FROM (SELECT st.*, ${roundedNumeric('(CASE WHEN total > 0 THEN total_points / total ELSE 0 END)', 2)} AS score FROM ${stage} st) s`,
    params: p.values,
  };
}

/**
 * Writes from the scratch table `health_scratch` (the result of `scoredSql`); `$1` is the
 * clock's now, `$2` today. Recomputes are serialized by an advisory lock, so "update the rows
 * that exist, insert the others" needs no ON CONFLICT (whose speculative insertion costs
 * more per row). A snapshot whose content is unchanged (the same day recomputed with the same
 * data) is left as it is: rewriting it would only move its computed_at.
 */
export const WRITE_SQL = {
  updateCurrent: `
    UPDATE account_health h SET
      previous_score  = h.score,
      previous_band   = CASE WHEN h.band <> s.band THEN h.band ELSE h.previous_band END,
      band_changed_at = CASE WHEN h.band <> s.band THEN $1::timestamptz ELSE h.band_changed_at END,
      score = s.score, band = s.band, profile = s.profile, components = s.components, computed_at = $1::timestamptz
      FROM health_scratch s
     WHERE h.account_id = s.account_id AND s.has_current`,
  insertCurrent: `
    INSERT INTO account_health (account_id, score, band, profile, components, computed_at)
    SELECT s.account_id, s.score, s.band, s.profile, s.components, $1::timestamptz
      FROM health_scratch s
     WHERE NOT s.has_current`,
  updateSnapshots: `
    UPDATE health_snapshots d SET score = s.score, band = s.band, profile = s.profile, components = s.components, computed_at = $1::timestamptz
      FROM health_scratch s
     WHERE d.account_id = s.account_id AND d.day = $2::date AND s.has_snapshot
       AND (d.score, d.band, d.profile, d.components::text) IS DISTINCT FROM (s.score, s.band, s.profile, s.components::text)`,
  insertSnapshots: `
    INSERT INTO health_snapshots (account_id, day, score, band, profile, components, computed_at)
    SELECT s.account_id, $2::date, s.score, s.band, s.profile, s.components, $1::timestamptz
      FROM health_scratch s
     WHERE NOT s.has_snapshot`,
};

/**
 * `round(x::numeric, digits)::text` for a float8 `x`. Whole numbers (days, counts, flat
 * points: most values) skip the float-to-numeric conversion, which formats the double with
 * printf and parses it back; below 1e15 both give the same digits. The others go through
 * `roundedNumeric`.
 */
export function roundedText(x: string, digits: number): string {
  return `CASE WHEN ${x} = trunc(${x}) AND abs(${x}) < 1e15 THEN ${x}::int8::text || '.${'0'.repeat(digits)}' ELSE ${roundedNumeric(x, digits)}::text END`;
}

/**
 * `round(x::numeric, digits)` for a float8 `x` (the same value and scale), without the
 * float-to-numeric conversion (printf of 15 significant digits, parsed back: the costliest
 * step of the components' JSON) where it cannot change the result: for 0 <= x < 10^4 the
 * 15-digit decimal differs from x by less than 5e-7 in units of the last kept digit, so when
 * x scaled is not within 10^-5 of a half, rounding x in floating point and rounding its
 * decimal give the same integer, which is then scaled exactly in numeric. Near a half (and
 * outside that range) the numeric path decides, as before.
 */
export function roundedNumeric(x: string, digits: number): string {
  const scale = `${10 ** digits}::float8`;
  const unit = `0.${'0'.repeat(digits - 1)}1`;
  return `CASE WHEN ${x} >= 0::float8 AND ${x} < 1e4::float8 AND abs(${x} * ${scale} - floor(${x} * ${scale}) - 0.5::float8) > 1e-5::float8
    THEN floor(${x} * ${scale} + 0.5::float8)::int8::numeric * ${unit} ELSE round(${x}::numeric, ${digits}) END`;
}

/** An aggregate over the rows where `condition` holds (all of them for `true`). */
function filtered(aggregate: string, condition: string): string {
  return condition === 'true' ? aggregate : `${aggregate} FILTER (WHERE ${condition})`;
}

/** `r.event` is one of these (a plain comparison for one event). */
function eventIn(events: string[], p: SqlParams): string {
  return events.length === 1 ? `r.event = ${p.add(events[0], 'text')}` : `r.event = ANY(${p.add(events, 'text[]')})`;
}

/** Piecewise-linear points in SQL, with the same operations as `pointsFor`. */
function pointsSql(c: Component, v: string, p: SqlParams): string {
  const pts: Points = c.points;
  const f = (x: number) => p.add(x, 'float8');
  const arms = [`WHEN ${v} IS NULL THEN ${c.missing === 'skip' ? 'NULL::float8' : f(c.missing)}`, `WHEN ${v} <= ${f(pts[0][0])} THEN ${f(pts[0][1])}`];
  for (let i = 1; i < pts.length; i++) {
    arms.push(`WHEN ${v} <= ${f(pts[i][0])} THEN ${f(pts[i - 1][1])} + (${v} - ${f(pts[i - 1][0])}) * ${f(slope(pts, i))}`);
  }
  return `CASE ${arms.join(' ')} ELSE ${f(pts[pts.length - 1][1])} END`;
}

/** A value that depends on the account's phase profile (`v.phase`), or the default. */
function perPhase(model: HealthModel, p: SqlParams, pick: (profile: { weights: Record<string, number>; bands: { green: number; yellow: number } }) => number, fallback: number): string {
  const arms: string[] = [];
  for (const phase of PHASES) {
    const profile = model.profiles[phase];
    if (!profile) continue;
    const value = pick(profile);
    if (value !== fallback) arms.push(`WHEN ${p.add(phase, 'text')} THEN ${p.add(value, 'float8')}`);
  }
  return arms.length ? `CASE v.phase ${arms.join(' ')} ELSE ${p.add(fallback, 'float8')} END` : p.add(fallback, 'float8');
}
