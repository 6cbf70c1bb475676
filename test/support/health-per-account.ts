import { utcDay } from '../../src/common/clock';
import { Db } from '../../src/database/db';
import { activeShare, frequencyChange, HealthModel, HealthResult, scoreAccount } from '../../src/health/health-model';
import { Signal } from '../../src/signals/signal';
import { SignalsService } from '../../src/signals/signals.service';

/**
 * The straightforward way to score health: one account at a time, usage through
 * SignalsService, the rest with one query each, maths in JavaScript. Independent of the
 * set-based SQL, so tests compare the two, and the benchmark uses it as its baseline.
 */
export async function scoreOneAccountJs(signals: SignalsService, db: Db, model: HealthModel, accountId: string, now: Date): Promise<HealthResult> {
  const [account] = await db.query<{ phase: string; seats: number | null }>('SELECT phase, seats FROM accounts WHERE id = $1', [accountId]);
  const wanted: Signal[] = [];
  const slots = model.components.map((c) => {
    const m = c.measure;
    const add = (s: Signal) => wanted.push(s) - 1;
    switch (m.kind) {
      case 'days_since_last':
        return m.events.map((event) => add({ kind: 'days_since_last', event }));
      case 'frequency_change':
        return [...m.events.map((event) => add({ kind: 'event_count', event, days: m.days })), ...m.events.map((event) => add({ kind: 'event_count', event, days: m.days, offsetDays: m.days }))];
      case 'feature_breadth':
        return [add({ kind: 'distinct_events', days: m.days, events: m.events })];
      case 'active_users':
        return [add(m.event ? { kind: 'active_contacts', days: m.days, event: m.event } : { kind: 'active_contacts', days: m.days })];
      default:
        return [];
    }
  });
  const got = (await signals.forAccount(accountId, wanted, now)) ?? [];
  const values: (number | null)[] = [];
  for (let i = 0; i < model.components.length; i++) {
    const m = model.components[i].measure;
    const v = slots[i].map((k) => got[k]);
    switch (m.kind) {
      case 'days_since_last': {
        const seen = v.filter((x): x is number => x !== null);
        values.push(seen.length ? Math.min(...seen) : null);
        break;
      }
      case 'frequency_change': {
        const half = m.events.length;
        const sum = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
        values.push(frequencyChange(sum(v.slice(0, half)), sum(v.slice(half))));
        break;
      }
      case 'feature_breadth':
        values.push(v[0] ?? 0);
        break;
      case 'active_users':
        values.push(activeShare(v[0] ?? 0, account.seats));
        break;
      case 'email_engagement': {
        const [row] = await db.query<{ sent: number; engaged: number }>(
          `SELECT count(*)::int AS sent,
                  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM engagement_events e WHERE e.message_id = m.id AND e.kind IN ('open','click') AND NOT e.machine))::int AS engaged
             FROM messages m WHERE m.account_id = $1 AND m.status = 'sent' AND m.sent_at > $2::timestamptz - make_interval(days => $3) AND m.sent_at <= $2`,
          [accountId, now.toISOString(), m.days],
        );
        values.push(row.sent > 0 ? row.engaged / row.sent : null);
        break;
      }
      case 'nps': {
        const [row] = await db.query<{ score: number }>(
          `SELECT (data->>'score')::float8 AS score FROM engagement_events
            WHERE account_id = $1 AND kind = 'survey' AND data->>'kind' = 'nps' AND jsonb_typeof(data->'score') = 'number' AND NOT machine
              AND occurred_at > $2::timestamptz - make_interval(days => $3) AND occurred_at <= $2
            ORDER BY occurred_at DESC, id DESC LIMIT 1`,
          [accountId, now.toISOString(), m.days],
        );
        values.push(row ? row.score : null);
        break;
      }
      case 'open_handoffs': {
        const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM handoffs WHERE account_id = $1 AND status <> 'closed'`, [accountId]);
        values.push(row.n);
        break;
      }
    }
  }
  return scoreAccount(model, account.phase, values);
}

/** Writes one account's result the way the set-based statement does (for the baseline's cost). */
export async function writeOneAccountJs(db: Db, accountId: string, r: HealthResult, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO account_health AS h (account_id, score, band, profile, components, computed_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (account_id) DO UPDATE SET previous_score = h.score,
         previous_band = CASE WHEN h.band <> EXCLUDED.band THEN h.band ELSE h.previous_band END,
         band_changed_at = CASE WHEN h.band <> EXCLUDED.band THEN EXCLUDED.computed_at ELSE h.band_changed_at END,
         score = EXCLUDED.score, band = EXCLUDED.band, profile = EXCLUDED.profile, components = EXCLUDED.components, computed_at = EXCLUDED.computed_at`,
      [accountId, r.score, r.band, r.profile, JSON.stringify(r.components), now.toISOString()],
    );
    await tx.query(
      `INSERT INTO health_snapshots (account_id, day, score, band, profile, components, computed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (account_id, day) DO UPDATE SET score = EXCLUDED.score, band = EXCLUDED.band, profile = EXCLUDED.profile,
         components = EXCLUDED.components, computed_at = EXCLUDED.computed_at`,
      [accountId, utcDay(now), r.score, r.band, r.profile, JSON.stringify(r.components), now.toISOString()],
    );
  });
}
