import { signalSql } from '../signals/signal-sql';
import { SqlParams } from '../signals/sql-params';
import { Component, HealthModel, PHASES, Points, slope, usageWindowDays } from './health-model';

/**
 * The set-based recompute: one statement computes every component's value, points and
 * contribution, the score and the band for all accounts, and writes `account_health` and the
 * day's `health_snapshots` row. Formulas are those of `health-model.ts`, in the same
 * floating-point order, so the two agree exactly (tests hold them to each other).
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

/** `$1` is today's UTC date, `$2` the clock's now. */
export function recomputeSql(model: HealthModel, today: string, now: Date): RecomputeSql {
  const p = new SqlParams([today, now.toISOString()]);
  const T = '$1::date';
  const NOW = '$2::timestamptz';
  const usage: { level1: string; level2: string }[] = [];
  const ctes: string[] = [];
  const joins: string[] = [];
  const values: string[] = [];

  model.components.forEach((c, i) => {
    const m = c.measure;
    const win = (days: number, offset = 0) =>
      offset ? `r.day > ${T} - ${p.add(days + offset, 'int')} AND r.day <= ${T} - ${p.add(offset, 'int')}` : `r.day > ${T} - ${p.add(days, 'int')}`;
    switch (m.kind) {
      case 'days_since_last': {
        // The window pass already sees the latest use of nearly every active account; only
        // accounts without one in the window need the index probe of the signals builder.
        usage.push({
          level1: `max(r.day) FILTER (WHERE r.event = ANY(${p.add(m.events, 'text[]')})) AS u${i}`,
          level2: `max(u${i}) FILTER (WHERE by_contact = 0) AS u${i}`,
        });
        const probes = m.events.map((event) => signalSql({ kind: 'days_since_last', event }, { subject: 'account', account: 'a.id', accountRow: 'a' }, p, T));
        // days_since_last is (today - max(day)); the smallest over the events is the latest use.
        values.push(`COALESCE(${T} - u.u${i}, ${probes.length > 1 ? `LEAST(${probes.join(', ')})` : probes[0]})::float8`);
        break;
      }
      case 'frequency_change': {
        const ev = `r.event = ANY(${p.add(m.events, 'text[]')})`;
        usage.push({ level1: `sum(r.count) FILTER (WHERE ${win(m.days)} AND ${ev}) AS u${i}_recent`, level2: `COALESCE(sum(u${i}_recent) FILTER (WHERE by_contact = 0), 0) AS u${i}_recent` });
        usage.push({ level1: `sum(r.count) FILTER (WHERE ${win(m.days, m.days)} AND ${ev}) AS u${i}_earlier`, level2: `COALESCE(sum(u${i}_earlier) FILTER (WHERE by_contact = 0), 0) AS u${i}_earlier` });
        const recent = `COALESCE(u.u${i}_recent, 0)`;
        const earlier = `COALESCE(u.u${i}_earlier, 0)`;
        values.push(`CASE WHEN ${recent} = 0 AND ${earlier} = 0 THEN NULL ELSE ${recent}::float8 / GREATEST(${earlier}, 1)::float8 END`);
        break;
      }
      case 'feature_breadth':
        // Distinct events: rows of the (account, event) grouping set that saw a key feature in the window.
        usage.push({ level1: `bool_or(${win(m.days)} AND r.event = ANY(${p.add(m.events, 'text[]')})) AS u${i}`, level2: `count(*) FILTER (WHERE by_contact = 0 AND u${i}) AS u${i}` });
        values.push(`COALESCE(u.u${i}, 0)::float8`);
        break;
      case 'active_users': {
        // Distinct contacts: rows of the (account, contact) grouping set active in the window.
        const ev = m.event ? ` AND r.event = ${p.add(m.event, 'text')}` : '';
        usage.push({ level1: `bool_or(${win(m.days)}${ev}) AS u${i}`, level2: `count(*) FILTER (WHERE by_contact = 1 AND contact_id <> 0 AND u${i}) AS u${i}` });
        values.push(`CASE WHEN a.seats > 0 THEN COALESCE(u.u${i}, 0)::float8 / a.seats::float8 END`);
        break;
      }
      case 'email_engagement':
        // A message counts as engaged when a person (not a prefetcher or scanner) opened or clicked it.
        ctes.push(`e${i} AS (
          SELECT m.account_id, count(*) AS sent,
                 count(*) FILTER (WHERE EXISTS (SELECT 1 FROM engagement_events ev WHERE ev.message_id = m.id AND ev.kind IN ('open','click') AND NOT ev.machine)) AS engaged
            FROM messages m
           WHERE m.status = 'sent' AND m.account_id IS NOT NULL AND m.sent_at > ${NOW} - make_interval(days => ${p.add(m.days, 'int')}) AND m.sent_at <= ${NOW}
           GROUP BY m.account_id)`);
        joins.push(`LEFT JOIN e${i} ON e${i}.account_id = a.id`);
        values.push(`CASE WHEN e${i}.sent > 0 THEN e${i}.engaged::float8 / e${i}.sent::float8 END`);
        break;
      case 'nps':
        ctes.push(`e${i} AS (
          SELECT DISTINCT ON (ev.account_id) ev.account_id, (ev.data->>'score')::float8 AS score
            FROM engagement_events ev
           WHERE ev.kind = 'survey' AND ev.data->>'kind' = 'nps' AND jsonb_typeof(ev.data->'score') = 'number' AND NOT ev.machine
             AND ev.account_id IS NOT NULL AND ev.occurred_at > ${NOW} - make_interval(days => ${p.add(m.days, 'int')}) AND ev.occurred_at <= ${NOW}
           ORDER BY ev.account_id, ev.occurred_at DESC, ev.id DESC)`);
        joins.push(`LEFT JOIN e${i} ON e${i}.account_id = a.id`);
        values.push(`e${i}.score`);
        break;
      case 'open_handoffs':
        ctes.push(`e${i} AS (SELECT h.account_id, count(*) AS open FROM handoffs h WHERE h.status <> 'closed' GROUP BY h.account_id)`);
        joins.push(`LEFT JOIN e${i} ON e${i}.account_id = a.id`);
        values.push(`COALESCE(e${i}.open, 0)::float8`);
        break;
    }
  });

  if (usage.length) {
    // Distinct counts without DISTINCT aggregates (which force a sort of every rollup row):
    // one pass groups the window by (account, event) and by (account, contact) at once, the
    // second counts those groups per account. Both are hash aggregates.
    ctes.unshift(`u1 AS (
      SELECT r.account_id, r.contact_id, GROUPING(r.event) AS by_contact, ${usage.map((u) => u.level1).join(',\n             ')}
        FROM event_rollups r
       WHERE r.day > ${T} - ${p.add(usageWindowDays(model), 'int')}
       GROUP BY GROUPING SETS ((r.account_id, r.event), (r.account_id, r.contact_id))),
    u AS (
      SELECT account_id, ${usage.map((u) => u.level2).join(',\n             ')}
        FROM u1 GROUP BY account_id)`);
    joins.unshift('LEFT JOIN u ON u.account_id = a.id');
  }

  const n = model.components.length;
  const idx = [...Array(n).keys()];
  const weight = (c: Component) => perPhase(model, p, (w) => w.weights[c.name] ?? c.weight, c.weight);
  const green = perPhase(model, p, (w) => w.bands.green, model.bands.green);
  const yellow = perPhase(model, p, (w) => w.bands.yellow, model.bands.yellow);
  const profile = `CASE WHEN v.phase = ANY(${p.add(Object.keys(model.profiles), 'text[]')}) THEN v.phase ELSE 'default' END`;
  const counted = (i: number) => `CASE WHEN p${i} IS NOT NULL THEN w${i} ELSE 0::float8 END`;
  const product = (i: number) => `COALESCE(w${i} * p${i}, 0::float8)`;
  const componentJson = idx
    .map(
      (i) => `${p.add(model.components[i].name, 'text')}, jsonb_build_object('value', round(v${i}::numeric, 4), 'points', round(p${i}::numeric, 2),
        'weight', w${i}, 'contribution', CASE WHEN p${i} IS NOT NULL AND w${i} > 0 AND total > 0 THEN round((w${i} * p${i} / total)::numeric, 2) ELSE 0 END)`,
    )
    .join(',\n      ');

  const scored = `
    vals AS MATERIALIZED (
      SELECT a.id AS account_id, a.phase, ${values.map((v, i) => `${v} AS v${i}`).join(',\n             ')}
        FROM accounts a
        ${joins.join('\n        ')}),
    pts AS MATERIALIZED (
      SELECT v.*, ${profile} AS profile, ${green} AS green, ${yellow} AS yellow,
             ${idx.map((i) => `${pointsSql(model.components[i], `v${i}`, p)} AS p${i}, ${weight(model.components[i])} AS w${i}`).join(',\n             ')}
        FROM vals v),
    sums AS (
      SELECT pts.*, (${idx.map(counted).join(' + ')}) AS total, (${idx.map(product).join(' + ')}) AS total_points FROM pts),
    scored AS (
      SELECT s.account_id, s.profile, s.score,
             CASE WHEN s.score >= s.green THEN 'green' WHEN s.score >= s.yellow THEN 'yellow' ELSE 'red' END AS band,
             s.components
        FROM (SELECT sums.*, round((CASE WHEN total > 0 THEN total_points / total ELSE 0 END)::numeric, 2) AS score,
                     jsonb_build_object(${componentJson}) AS components
                FROM sums) s)`;

  const sql = `
    WITH ${[...ctes, scored].join(',\n    ')},
    current AS (
      INSERT INTO account_health AS h (account_id, score, band, profile, components, computed_at)
      SELECT account_id, score, band, profile, components, ${NOW} FROM scored
      ON CONFLICT (account_id) DO UPDATE SET
        previous_score  = h.score,
        previous_band   = CASE WHEN h.band <> EXCLUDED.band THEN h.band ELSE h.previous_band END,
        band_changed_at = CASE WHEN h.band <> EXCLUDED.band THEN EXCLUDED.computed_at ELSE h.band_changed_at END,
        score = EXCLUDED.score, band = EXCLUDED.band, profile = EXCLUDED.profile,
        components = EXCLUDED.components, computed_at = EXCLUDED.computed_at
      RETURNING 1),
    snapshots AS (
      INSERT INTO health_snapshots AS s (account_id, day, score, band, profile, components, computed_at)
      SELECT account_id, ${T}, score, band, profile, components, ${NOW} FROM scored
      ON CONFLICT (account_id, day) DO UPDATE SET
        score = EXCLUDED.score, band = EXCLUDED.band, profile = EXCLUDED.profile,
        components = EXCLUDED.components, computed_at = EXCLUDED.computed_at
      RETURNING 1)
    SELECT band, count(*)::int AS accounts,
           (SELECT count(*) FROM current)::int AS current_rows, (SELECT count(*) FROM snapshots)::int AS snapshot_rows
      FROM scored GROUP BY band`;
  return { sql, params: p.values };
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
