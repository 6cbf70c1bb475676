import { Signal } from './signal';
import { lastDaySql, SubjectRef } from './signal-sql';
import { SqlParams } from './sql-params';

/**
 * The set-based form of the rollup signals, for statements that evaluate many subjects at
 * once (trigger statements; batch evaluation in SignalsRepository, `perOwner`): instead of
 * a correlated subquery per subject and signal, ONE
 * `GROUP BY` over the daily rollups per (owner, event filter) produces a relation
 * `(k, v0, v1, …)` — each signal an aggregate with its own window as a FILTER — that is
 * LEFT JOINed to the subjects. A subject without rollups gets NULLs, mapped to the same
 * values the correlated form gives (0 for counts, NULL for "days since").
 *
 * Only `event_count`, `days_since_last`, `distinct_events` and `active_contacts` have a
 * grouped form; the others (account fields, engagement) stay per-row (`column` answers
 * undefined and the caller falls back to `signalSql`). The property tests in
 * test/conditions/sql-vs-memory.property.test.ts check both strategies against JavaScript.
 */
export interface SignalColumns {
  column(signal: Signal, ref: SubjectRef): string | undefined;
  /**
   * For an `event_count` compared only with zero: the number of rollup ROWS in its window,
   * which is 0 exactly when the count is (every rollup row counts at least one event:
   * `CHECK (count > 0)`). It reads no `count`, so a relation whose aggregates all do so is
   * an index-only scan of the rollups' `(contact_id, event, day)` or primary key.
   */
  presence?(signal: Extract<Signal, { kind: 'event_count' }>, ref: SubjectRef): string | undefined;
}

interface Group {
  alias: string;
  owner: 'contact' | 'account';
  /** SQL filter on the event name ('' for every event). */
  events: string;
  /** perOwner: the one event filter all aggregates share (moved into the WHERE at the end), or null when they mix. */
  single?: { key: string; sql: () => string } | null;
  /** `lowest`: days back the aggregate reads (undefined: all history; 'any': whatever the others read). */
  aggregates: { sql: string; key: string; lowest?: number | 'any'; fn: string; preds: string[] }[];
}

/** The aggregate of `active_contacts`: alone in a perOwner relation, it is computed from hashed distinct pairs (see joins). */
const DISTINCT_CONTACTS = 'count(DISTINCT r.contact_id)';

export class GroupedSignals implements SignalColumns {
  private readonly groups = new Map<string, Group>();

  /**
   * `perOwner`: one relation per owner kind for all events (one pass over each subject's
   * rollups; for a known, small set of subjects), instead of one per (owner, event) (lets a
   * scan over every subject skip the other events).
   */
  constructor(
    private readonly params: SqlParams,
    private readonly today: string,
    private readonly perOwner = false,
    private readonly prefix = 'sg',
  ) {}

  /** The value of `signal` for the current row of `ref`, read from a grouped relation; undefined when it has no grouped form. */
  column(signal: Signal, ref: SubjectRef): string | undefined {
    const owner = ref.subject === 'contact' && !('of' in signal && signal.of === 'account') ? 'contact' : 'account';
    const p = this.params;
    switch (signal.kind) {
      case 'event_count': {
        const { event, days, offsetDays = 0 } = signal;
        const col = this.aggregate(owner, `e:${event}`, () => `r.event = ${p.add(event, 'text')}`, `count:${days}+${offsetDays}`, days + offsetDays, 'sum(r.count)', () => [this.window(days, offsetDays)]);
        return `COALESCE(${col}, 0)::int`;
      }
      case 'days_since_last': {
        if (this.perOwner) {
          // For a few known subjects, reading all history is too much: the last day within the
          // window the relation reads anyway is the last day of all when there is one (every
          // later day up to today is in the window); only without one, the correlated max()
          // (one backward index probe) looks further back. COALESCE evaluates it only then.
          const col = this.aggregate(owner, `e:${signal.event}`, () => `r.event = ${p.add(signal.event, 'text')}`, 'last', 'any', 'max(r.day)', () => []);
          return `(${this.today} - COALESCE(${col}, ${lastDaySql(signal, ref, p, this.today)}))`;
        }
        const col = this.aggregate(owner, `e:${signal.event}`, () => `r.event = ${p.add(signal.event, 'text')}`, 'last', undefined, 'max(r.day)', () => []);
        return `(${this.today} - ${col})`;
      }
      case 'distinct_events': {
        const { days, offsetDays = 0 } = signal;
        const among = signal.events?.length ? signal.events : undefined;
        const col = this.aggregate(
          owner,
          among ? `in:${JSON.stringify(among)}` : 'all',
          () => (among ? `r.event = ANY(${p.add(among, 'text[]')})` : ''),
          `distinct:${days}+${offsetDays}`,
          days + offsetDays,
          'count(DISTINCT r.event)',
          () => [this.window(days, offsetDays)],
        );
        return `COALESCE(${col}, 0)::int`;
      }
      case 'active_contacts': {
        const { days, offsetDays = 0, event: ev } = signal;
        const col = this.aggregate(
          'account',
          ev === undefined ? 'all' : `e:${ev}`,
          () => (ev === undefined ? '' : `r.event = ${p.add(ev, 'text')}`),
          `active:${days}+${offsetDays}`,
          days + offsetDays,
          DISTINCT_CONTACTS,
          () => ['r.contact_id <> 0', this.window(days, offsetDays)],
        );
        return `COALESCE(${col}, 0)::int`;
      }
      default:
        return undefined;
    }
  }

  presence(signal: Extract<Signal, { kind: 'event_count' }>, ref: SubjectRef): string {
    const owner = ref.subject === 'contact' && signal.of !== 'account' ? 'contact' : 'account';
    const { event, days, offsetDays = 0 } = signal;
    const p = this.params;
    const col = this.aggregate(owner, `e:${event}`, () => `r.event = ${p.add(event, 'text')}`, `rows:${days}+${offsetDays}`, days + offsetDays, 'count(*)', () => [this.window(days, offsetDays)]);
    return `COALESCE(${col}, 0)::int`;
  }

  /**
   * LEFT JOINs of every relation used so far onto the subject row of `ref` (append after its
   * FROM; call once). `only` restricts a relation to the caller's candidates: a predicate
   * over the owner column (`r.contact_id` or `r.account_id`).
   */
  joins(ref: SubjectRef, only?: (owner: 'contact' | 'account', column: string) => string): string {
    return [...this.groups.values()]
      .map((g) => {
        const col = g.owner === 'contact' ? 'contact_id' : 'account_id';
        const on = g.owner === 'contact' ? ref.contact : ref.account;
        if (!on) throw new Error('a contact signal needs a contact subject');
        // The scan may start at the oldest window only if every aggregate of the group has one
        // (an aggregate that takes 'any' window reads just today when alone).
        const lows = g.aggregates.flatMap((a) => (a.lowest === 'any' ? [] : [a.lowest]));
        const from = lows.every((l): l is number => l !== undefined) ? ` AND r.day > ${this.today} - ${this.params.add(Math.max(1, ...lows), 'int')}` : '';
        const events = g.events || (g.single ? g.single.sql() : '');
        const where = [g.owner === 'contact' ? 'r.contact_id <> 0' : '', events, `r.day <= ${this.today}${from}`, only ? only(g.owner, `r.${col}`) : ''].filter(Boolean).join(' AND ');
        const [first] = g.aggregates;
        if (this.perOwner && g.aggregates.length === 1 && first.fn === DISTINCT_CONTACTS) {
          // Active contacts alone (a render context's activeUsers30d): the distinct (owner, contact) pairs
          // hashed, then counted, instead of sorting every owner's rows for count(DISTINCT …) — the same
          // number (contact_id is never NULL; an owner without a pair is absent, and the column is
          // COALESCEd to 0 as the count of an empty FILTER is). Not in the trigger statements' form.
          const rows = [where, ...first.preds].join(' AND ');
          return `\n LEFT JOIN (SELECT d.k, count(*) AS v0 FROM (SELECT DISTINCT r.${col} AS k, r.contact_id FROM event_rollups r WHERE ${rows}) d GROUP BY d.k) ${g.alias} ON ${g.alias}.k = ${on}`;
        }
        const aggs = g.aggregates.map((a, i) => `${a.sql} AS v${i}`).join(', ');
        return `\n LEFT JOIN (SELECT r.${col} AS k, ${aggs} FROM event_rollups r WHERE ${where} GROUP BY r.${col}) ${g.alias} ON ${g.alias}.k = ${on}`;
      })
      .join('');
  }

  /**
   * The column of one aggregate in the relation of (owner, events), created on first use
   * (SQL and bind parameters only then: an unused parameter would have no type).
   * `lowest`: how many days back the aggregate reads (undefined: all history). In `perOwner`
   * mode every event shares one relation per (owner, window) and the event filter moves into
   * the aggregate's FILTER, with the window predicates `filters` — so a long window read for
   * one event (the previous 30 days of logins) does not make every event's rows read twice as
   * far back; a relation whose aggregates all read one event filters it in its WHERE.
   */
  private aggregate(owner: Group['owner'], eventsKey: string, events: () => string, key: string, lowest: number | 'any' | undefined, fn: string, filters: () => string[]): string {
    const gk = this.perOwner ? this.ownerGroupKey(owner, lowest) : `${owner}|${eventsKey}`;
    const k = this.perOwner ? `${eventsKey}|${key}` : key;
    let g = this.groups.get(gk);
    if (!g) {
      g = { alias: `${this.prefix}${this.groups.size}`, owner, events: this.perOwner ? '' : events(), aggregates: [], single: this.perOwner && eventsKey.startsWith('e:') ? { key: eventsKey, sql: events } : null };
      this.groups.set(gk, g);
    } else if (g.single && g.single.key !== eventsKey) {
      g.single = null;
    }
    let i = g.aggregates.findIndex((a) => a.key === k);
    if (i < 0) {
      const preds = [this.perOwner ? events() : '', ...filters()].filter(Boolean);
      i = g.aggregates.push({ sql: preds.length ? `${fn} FILTER (WHERE ${preds.join(' AND ')})` : fn, key: k, lowest, fn, preds }) - 1;
    }
    return `${g.alias}.v${i}`;
  }

  /**
   * perOwner: the relation of an owner for a window. An aggregate that takes 'any' window
   * joins the owner's first relation; alone, its relation is adopted by the next window asked for.
   */
  private ownerGroupKey(owner: Group['owner'], lowest: number | 'any' | undefined): string {
    if (lowest === 'any') return [...this.groups.keys()].find((k) => k.startsWith(`${owner}|`)) ?? `${owner}|any`;
    const gk = `${owner}|${lowest ?? 'all'}`;
    const waiting = this.groups.get(`${owner}|any`);
    if (waiting && !this.groups.has(gk)) {
      this.groups.delete(`${owner}|any`);
      this.groups.set(gk, waiting);
    }
    return gk;
  }

  /** `r.day` within the window: whole UTC days, exactly as signalSql. */
  private window(days: number, offset: number): string {
    const hi = offset ? `r.day <= ${this.today} - ${this.params.add(offset, 'int')}` : `r.day <= ${this.today}`;
    return `r.day > ${this.today} - ${this.params.add(days + offset, 'int')} AND ${hi}`;
  }
}
