import { Signal } from './signal';
import { lastDaySql, SubjectRef } from './signal-sql';
import { SqlParams } from './sql-params';

type Owner = 'contact' | 'account';

interface Relation {
  alias: string;
  owner: Owner;
  /** The one event every aggregate reads (filtered in the WHERE), or null when they mix. */
  single: { event: string } | null;
  /** Per (owner, event) columns of the inner level, by key: sums and row counts per window, the last day. */
  inner: Map<string, string>;
  /** Aggregates of the outer level (over the inner rows of one owner), by key. */
  outer: { key: string; sql: string; lowest: number | 'any' }[];
}

/**
 * The batch form of the rollup signals for a small, known set of subjects (SignalsRepository:
 * an engine batch's render contexts, the signals API): ONE pass over each owner's rollups per
 * window, as a two-level aggregate. The inner level groups the rollup rows by (owner, event)
 * with one sum and one row count per window and the last day; the outer level pivots those few
 * rows per owner into the signals (`count(login, 30d)` is the login row's 30-day sum,
 * `distinct_events` the number of event rows with a row in the window). Each rollup row is thus
 * aggregated by a handful of expressions instead of one FILTER per signal, which cost more than
 * reading the rows (measured: −20 % of the render context's account statement).
 *
 * Relations are per (owner, oldest day read): a long window asked for one event (the previous
 * 30 days of logins) does not make every event's rows be read twice as far back. `active_contacts`
 * (distinct contacts) cannot come from (owner, event) rows: it has its own relation. A subject
 * without rollups gets NULLs, mapped to the values of the correlated form (0 for counts, NULL
 * for "days since"). Checked against JavaScript by test/conditions/sql-vs-memory.property.test.ts.
 */
export class OwnerPassSignals {
  private readonly relations = new Map<string, Relation>();
  private readonly active = new Map<string, { alias: string; days: number; offset: number; event?: string }>();

  constructor(
    private readonly params: SqlParams,
    private readonly today: string,
  ) {}

  /** The value of `signal` for the current row of `ref`; undefined when it has no grouped form (the caller uses signalSql). */
  column(signal: Signal, ref: SubjectRef): string | undefined {
    const owner: Owner = ref.subject === 'contact' && !('of' in signal && signal.of === 'account') ? 'contact' : 'account';
    const p = this.params;
    switch (signal.kind) {
      case 'event_count': {
        const { event, days, offsetDays = 0 } = signal;
        const w = this.windowKey(days, offsetDays);
        const col = this.aggregate(owner, event, days + offsetDays, `count:${event}:${w}`, (rel) => {
          inner(rel, `c${w}`, () => `sum(r.count) FILTER (WHERE ${this.window(days, offsetDays)})`);
          return `sum(i.c${w}) FILTER (WHERE i.ev = ${p.add(event, 'text')})`;
        });
        return `COALESCE(${col}, 0)::int`;
      }
      case 'days_since_last': {
        // The last day within the window the relation reads anyway is the last day of all when
        // there is one (every later day up to today is in it); only without one, the correlated
        // max() (one backward index probe) looks further back. COALESCE evaluates it only then.
        const col = this.aggregate(owner, signal.event, 'any', `last:${signal.event}`, (rel) => {
          inner(rel, 'last', () => 'max(r.day)');
          return `max(i.last) FILTER (WHERE i.ev = ${p.add(signal.event, 'text')})`;
        });
        return `(${this.today} - COALESCE(${col}, ${lastDaySql(signal, ref, p, this.today)}))`;
      }
      case 'distinct_events': {
        const { days, offsetDays = 0 } = signal;
        const among = signal.events?.length ? signal.events : undefined;
        const w = this.windowKey(days, offsetDays);
        const col = this.aggregate(owner, null, days + offsetDays, `distinct:${w}:${JSON.stringify(among ?? null)}`, (rel) => {
          inner(rel, `n${w}`, () => `count(*) FILTER (WHERE ${this.window(days, offsetDays)})`);
          return `count(*) FILTER (WHERE i.n${w} > 0${among ? ` AND i.ev = ANY(${p.add(among, 'text[]')})` : ''})`;
        });
        return `COALESCE(${col}, 0)::int`;
      }
      case 'active_contacts': {
        const { days, offsetDays = 0, event } = signal;
        const key = `${days}+${offsetDays}:${event ?? ''}`;
        let a = this.active.get(key);
        if (!a) this.active.set(key, (a = { alias: `ac${this.active.size}`, days, offset: offsetDays, event }));
        return `COALESCE(${a.alias}.v, 0)::int`;
      }
      default:
        return undefined;
    }
  }

  /**
   * LEFT JOINs of every relation used so far onto the subject row of `ref` (append after its
   * FROM; call once). `only` restricts a relation to the caller's subjects: a predicate over the
   * owner column (`r.contact_id` or `r.account_id`).
   */
  joins(ref: SubjectRef, only: (owner: Owner, column: string) => string): string {
    const p = this.params;
    const out: string[] = [];
    for (const rel of this.relations.values()) {
      const col = rel.owner === 'contact' ? 'contact_id' : 'account_id';
      const on = rel.owner === 'contact' ? ref.contact : ref.account;
      if (!on) throw new Error('a contact signal needs a contact subject');
      // An aggregate that takes 'any' window reads whatever the others read (just today when alone).
      const lows = rel.outer.flatMap((a) => (a.lowest === 'any' ? [] : [a.lowest]));
      const where = [
        rel.owner === 'contact' ? 'r.contact_id <> 0' : '',
        rel.single ? `r.event = ${p.add(rel.single.event, 'text')}` : '',
        `r.day <= ${this.today} AND r.day > ${this.today} - ${p.add(Math.max(1, ...lows), 'int')}`,
        only(rel.owner, `r.${col}`),
      ].filter(Boolean);
      const inner = [...rel.inner].map(([k, sql]) => `${sql} AS ${k}`).join(', ');
      const outer = rel.outer.map((a, i) => `${a.sql} AS v${i}`).join(', ');
      out.push(
        `\n LEFT JOIN (SELECT i.k, ${outer} FROM (SELECT r.${col} AS k, r.event AS ev, ${inner} FROM event_rollups r WHERE ${where.join(' AND ')}` +
          ` GROUP BY r.${col}, r.event) i GROUP BY i.k) ${rel.alias} ON ${rel.alias}.k = ${on}`,
      );
    }
    for (const a of this.active.values()) {
      const where = ['r.contact_id <> 0', a.event === undefined ? '' : `r.event = ${p.add(a.event, 'text')}`, this.window(a.days, a.offset), only('account', 'r.account_id')].filter(Boolean);
      // Distinct (account, contact) pairs by hashing, then counted: cheaper than count(DISTINCT …), which sorts per account.
      out.push(
        `\n LEFT JOIN (SELECT d.k, count(*) AS v FROM (SELECT DISTINCT r.account_id AS k, r.contact_id FROM event_rollups r WHERE ${where.join(' AND ')}) d` +
          ` GROUP BY d.k) ${a.alias} ON ${a.alias}.k = ${ref.account}`,
      );
    }
    return out.join('');
  }

  /** The column of one outer aggregate in the relation of (owner, oldest day read), created on first use. */
  private aggregate(owner: Owner, event: string | null, lowest: number | 'any', key: string, define: (rel: Relation) => string): string {
    const rk = this.relationKey(owner, lowest);
    let rel = this.relations.get(rk);
    if (!rel) {
      rel = { alias: `op${this.relations.size}`, owner, single: event === null ? null : { event }, inner: new Map(), outer: [] };
      this.relations.set(rk, rel);
    } else if (rel.single && rel.single.event !== event) {
      rel.single = null;
    }
    let i = rel.outer.findIndex((a) => a.key === key);
    if (i < 0) i = rel.outer.push({ key, sql: define(rel), lowest }) - 1;
    return `${rel.alias}.v${i}`;
  }

  /** An aggregate that takes 'any' window joins the owner's first relation; alone, its relation is adopted by the next window asked for. */
  private relationKey(owner: Owner, lowest: number | 'any'): string {
    if (lowest === 'any') return [...this.relations.keys()].find((k) => k.startsWith(`${owner}|`)) ?? `${owner}|any`;
    const rk = `${owner}|${lowest}`;
    const waiting = this.relations.get(`${owner}|any`);
    if (waiting && !this.relations.has(rk)) {
      this.relations.delete(`${owner}|any`);
      this.relations.set(rk, waiting);
    }
    return rk;
  }

  private windowKey(days: number, offset: number): string {
    return offset ? `${days}_${offset}` : `${days}`;
  }

  /** `r.day` within the window: whole UTC days, exactly as signalSql. */
  private window(days: number, offset: number): string {
    const hi = offset ? `r.day <= ${this.today} - ${this.params.add(offset, 'int')}` : `r.day <= ${this.today}`;
    return `r.day > ${this.today} - ${this.params.add(days + offset, 'int')} AND ${hi}`;
  }
}

/** An inner column, created once (SQL and bind parameters only then: an unused parameter would have no type). */
function inner(rel: Relation, key: string, sql: () => string): void {
  if (!rel.inner.has(key)) rel.inner.set(key, sql());
}
