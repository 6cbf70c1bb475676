import { compileGroupedConditionSql } from '../conditions/compile-grouped';
import { compileConditionSql, ConditionRef } from '../conditions/compile-sql';
import { allOf, Condition } from '../conditions/condition';
import { Journey, Reentry } from '../journeys/journey';
import { SqlParams } from '../signals/sql-params';

/**
 * Set-based trigger statements: ONE statement per journey finds the subjects that should
 * enter (condition newly true / event seen / date reached / schedule due), applies the
 * audience and re-entry policy, draws the holdout, inserts the enrollments and their
 * "entered" history. No per-subject loop anywhere. Every value is a bind parameter;
 * identifiers come from fixed tables (subject kinds, date fields).
 *
 * Subjects: a per-contact journey evaluates each contact in its PRIMARY account (the first
 * it joined) for condition, date and schedule triggers, and in the event's account for
 * event triggers; a per-account journey evaluates accounts. The subject id is the contact
 * or account id; at most one running enrollment per (journey, subject), whatever account.
 */
export interface Statement {
  sql: string;
  params: unknown[];
  /** Plain inserts: run only under the journey's entry lock (TriggersRepository.enterExclusive). */
  exclusive?: boolean;
}

export interface SubjectSql {
  from: string;
  ref: ConditionRef;
  subjectId: string;
  accountId: string;
  contactId: string;
}

export function subjectSql(journey: Journey): SubjectSql {
  if (journey.subject.type === 'account') {
    return { from: 'accounts a', ref: { subject: 'account', account: 'a.id', accountRow: 'a' }, subjectId: 'a.id', accountId: 'a.id', contactId: 'NULL::bigint' };
  }
  return {
    from: `contacts c JOIN accounts a ON a.id = c.account_id
           LEFT JOIN account_contacts ac ON ac.account_id = a.id AND ac.contact_id = c.id`,
    ref: { subject: 'contact', account: 'a.id', accountRow: 'a', contact: 'c.id', contactRow: 'c', membershipRole: 'ac.role' },
    subjectId: 'c.id',
    accountId: 'a.id',
    contactId: 'c.id',
  };
}

/**
 * The subjects the re-entry policy keeps out, as a query (materialized once and hash
 * anti-joined: a per-candidate probe would also scan the rows this very statement inserts).
 */
export function blockedSql(reentry: Reentry, journeyParam: string, nowParam: string, params: SqlParams): string {
  const base = `SELECT p.subject_id FROM enrollments p WHERE p.journey_key = ${journeyParam}`;
  switch (reentry.policy) {
    case 'never':
      return base;
    case 'cooldown':
      return `${base} AND (p.status = 'active' OR p.ended_at > ${nowParam} - make_interval(days => ${params.add(reentry.days, 'int')}))`;
    case 'every_time':
      return `${base} AND p.status = 'active'`;
  }
}

/**
 * The holdout draw in SQL, identical to the step machine's `bucket(journey, subject, 'holdout')`:
 * sha256 of `key NUL subjectKey NUL holdout`, first 4 bytes big-endian, modulo 100.
 */
export function holdoutSql(journey: Journey, journeyParam: string, params: SqlParams): string {
  if (journey.holdoutPercent <= 0) return 'false';
  const kind = params.add(`${journey.subject.type}:`, 'text');
  const digest = `sha256(convert_to(${journeyParam}, 'UTF8') || '\\x00'::bytea || convert_to(${kind} || x.subject_id::text, 'UTF8') || '\\x00'::bytea || convert_to('holdout', 'UTF8'))`;
  return `((('x' || encode(substring(${digest} from 1 for 4), 'hex'))::bit(32)::bigint % 100) < ${params.add(journey.holdoutPercent, 'int')})`;
}

interface EntryOptions {
  journey: Journey;
  versionId: string;
  now: Date;
  /** A SELECT producing candidate rows (subject_id, account_id, contact_id[, trigger_key][, due_at]) named `x`. */
  candidates: string;
  params: SqlParams;
  reason: string;
  /** Extra CTEs before the candidates (e.g. trigger-state bookkeeping), each `name AS (...)`. */
  ctes?: string[];
  /** Restricts candidates further (e.g. to newly-true subjects), a predicate over `x`. */
  where?: string;
  withTriggerKey?: boolean;
  withDueAt?: boolean;
  /**
   * Plain INSERT instead of ON CONFLICT DO NOTHING (a speculative insertion per row, ~30 %
   * more work): only for a statement run under the journey's entry lock, which no other
   * writer of the journey's enrollments can hold meanwhile (see TriggersRepository.enterExclusive).
   */
  exclusive?: boolean;
  /** The `today` placeholder: always referenced, so its type is known even if no predicate reads it. */
  today?: string;
}

/** INSERT … SELECT of enrollments plus their "entered" history, returning the counts. */
export function entryStatement(o: EntryOptions): Statement {
  const p = o.params;
  const j = p.add(o.journey.key, 'text');
  const now = p.add(o.now.toISOString(), 'timestamptz');
  const first = p.add(o.journey.steps[0]?.id ?? 'end', 'text');
  const version = p.add(o.versionId, 'bigint');
  const subjectType = p.add(o.journey.subject.type, 'text');
  const reason = p.add(o.reason, 'text');
  const conds = ['NOT EXISTS (SELECT 1 FROM blocked b WHERE b.subject_id = x.subject_id)', o.where].filter(Boolean).join(' AND ');
  const sql = `
    WITH ${[...(o.ctes ?? []), `x AS MATERIALIZED (${o.candidates})`, `blocked AS MATERIALIZED (${blockedSql(o.journey.reentry, j, now, p)})`].join(',\n')},
    ins AS (
      INSERT INTO enrollments (journey_key, version_id, subject_type, subject_id, account_id, contact_id, status, step_id,
                               step_started_at, seq, entered_at, due_at, holdout, trigger_key, created_at, updated_at)
      SELECT ${j}, ${version}, ${subjectType}, x.subject_id, x.account_id, x.contact_id, 'active', ${first},
             ${now}, 0, ${now}, ${o.withDueAt ? `GREATEST(x.due_at, ${now})` : now}, ${holdoutSql(o.journey, j, p)},
             ${o.withTriggerKey ? 'x.trigger_key' : 'NULL'}, ${now}, ${now}
        FROM x WHERE ${conds}${o.exclusive ? '' : `
      ON CONFLICT DO NOTHING`}
      RETURNING id, holdout
    ), hist AS (
      INSERT INTO enrollment_history (enrollment_id, step_id, outcome, reason, at)
      SELECT id, NULL, 'entered', ${reason} || CASE WHEN holdout THEN ' (holdout: control group)' ELSE '' END, ${now} FROM ins
    )
    SELECT (SELECT count(*) FROM ins)::int AS enrolled, (SELECT count(*) FROM x)::int AS candidates${o.today ? `, ${o.today} AS as_of` : ''}`;
  return { sql, params: p.values, exclusive: o.exclusive };
}

/** A trigger's entry statement: fresh bind parameters with `today` first; `build` adds the trigger's own parts. */
function triggerStatement(
  journey: Journey,
  versionId: string,
  now: Date,
  build: (params: SqlParams, today: string) => Omit<EntryOptions, 'journey' | 'versionId' | 'now' | 'params' | 'today'>,
): Statement {
  const params = new SqlParams();
  const today = params.add(now.toISOString().slice(0, 10), 'date');
  return entryStatement({ journey, versionId, now, params, today, ...build(params, today) });
}

/**
 * Subjects matching the audience AND a condition, as candidate rows. Signals are compiled
 * set-based: one GROUP BY over the rollups per (owner, event) joined to the subjects
 * (compile-grouped.ts), not a correlated subquery per subject and signal.
 */
function matching(journey: Journey, cond: Condition, params: SqlParams, today: string, extra: { cols?: string; joins?: string; where?: string } = {}): string {
  const s = subjectSql(journey);
  const { joins, where } = compileGroupedConditionSql(allOf(journey.audience, cond), s.ref, s.from, params, today);
  return `SELECT ${s.subjectId} AS subject_id, ${s.accountId} AS account_id, ${s.contactId} AS contact_id${extra.cols ?? ''}
            FROM ${s.from}${extra.joins ?? ''}${joins} WHERE ${extra.where ? `${extra.where} AND ` : ''}${where}`;
}

/**
 * Condition trigger: subjects for which (audience AND condition) holds now, compared with
 * the trigger state of the last evaluation; those newly true enter (policy permitting).
 * Subjects no longer matching leave the state, so they can newly match again later.
 * Runs under the journey's entry lock (`exclusive`): the newly true are the subjects that
 * hold minus the state read by this statement's snapshot, and both inserts are plain.
 */
export function conditionTriggerStatement(journey: Journey, versionId: string, now: Date): Statement {
  const t = journey.trigger;
  if (t.type !== 'condition') throw new Error('not a condition trigger');
  return triggerStatement(journey, versionId, now, (params, today) => {
    const j = params.add(journey.key, 'text');
    const at = params.add(now.toISOString(), 'timestamptz');
    const holds = matching(journey, t.condition, params, today);
    return {
      reason: 'condition became true',
      ctes: [
        `holds AS MATERIALIZED (${holds})`,
        `gone AS (DELETE FROM trigger_state t WHERE t.journey_key = ${j} AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.subject_id = t.subject_id))`,
        // In subject order: the trigger state's and the enrollments' (journey, subject) indexes then
        // take the rows in key order (appends to the rightmost leaf, no descent per row).
        `newly AS MATERIALIZED (SELECT h.* FROM holds h WHERE NOT EXISTS (SELECT 1 FROM trigger_state t WHERE t.journey_key = ${j} AND t.subject_id = h.subject_id) ORDER BY h.subject_id)`,
        `remembered AS (INSERT INTO trigger_state (journey_key, subject_id, since) SELECT ${j}, subject_id, ${at} FROM newly)`,
      ],
      candidates: `SELECT * FROM newly`,
      exclusive: true,
    };
  });
}

const DATE_FIELDS = { renewal_date: 'renewal_date', contract_start: 'contract_start' } as const;
/** A date trigger still fires this many days late (an engine that was down catches up). */
export const DATE_CATCH_UP_DAYS = 3;

/** Date trigger: the account's date + offset is today (or within the catch-up window); once per date. */
export function dateTriggerStatement(journey: Journey, versionId: string, now: Date, defaultTz: string): Statement {
  const t = journey.trigger;
  if (t.type !== 'date') throw new Error('not a date trigger');
  return triggerStatement(journey, versionId, now, (params, today) => {
    const field = `a.${DATE_FIELDS[t.field]}`;
    const fire = `(${field} + ${params.add(t.offsetDays, 'int')})`;
    const tz = journey.subject.type === 'contact' ? `COALESCE(tz_c.name, tz_a.name, ${params.add(defaultTz, 'text')})` : `COALESCE(tz_a.name, ${params.add(defaultTz, 'text')})`;
    const due = t.at ? `, ((${fire} + ${params.add(t.at, 'time')}) AT TIME ZONE ${tz}) AS due_at` : `, NULL::timestamptz AS due_at`;
    // Unknown timezone names in the data fall back instead of failing the statement.
    const joins = (journey.subject.type === 'contact' ? ` LEFT JOIN tzn tz_c ON tz_c.name = c.timezone` : '') + ` LEFT JOIN tzn tz_a ON tz_a.name = a.timezone`;
    const cands = matching(journey, { type: 'const', value: true }, params, today, {
      cols: `, ${fire}::text AS trigger_key${due}`,
      joins,
      where: `${field} IS NOT NULL AND ${fire} <= ${today} AND ${fire} > ${today} - ${DATE_CATCH_UP_DAYS}`,
    });
    return {
      reason: `${t.offsetDays < 0 ? `${-t.offsetDays} days before` : `${t.offsetDays} days after`} ${t.field}`,
      ctes: ['tzn AS MATERIALIZED (SELECT name FROM pg_timezone_names)'],
      candidates: cands,
      withTriggerKey: true,
      withDueAt: true,
    };
  });
}

/** Schedule trigger: everyone in the audience at this occurrence (once per occurrence). */
export function scheduleTriggerStatement(journey: Journey, versionId: string, now: Date, occurrence: Date): Statement {
  return triggerStatement(journey, versionId, now, (params, today) => ({
    reason: `scheduled ${occurrence.toISOString()}`,
    candidates: matching(journey, { type: 'const', value: true }, params, today, { cols: `, ${params.add(occurrence.toISOString(), 'text')} AS trigger_key` }),
    withTriggerKey: true,
  }));
}

/** Events (committed after `since`, visible now) that match a trigger event name, as SQL over `e`. */
export function eventMatchSql(event: string, params: SqlParams): string {
  if (event === 'contact_created') {
    return `e.type = 'identify' AND e.contact_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM events f WHERE f.contact_id = e.contact_id AND f.type = 'identify' AND f.id < e.id)`;
  }
  if (event === 'contact_joined_account') {
    return `e.type = 'group' AND e.contact_id IS NOT NULL AND e.account_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM events f WHERE f.contact_id = e.contact_id AND f.type = 'group' AND f.account_id = e.account_id AND f.id < e.id)`;
  }
  return `e.type = 'track' AND e.name = ${params.add(event, 'text')}`;
}

/** The events of one pass: committed since the cursor's snapshot, visible in this transaction's snapshot. */
export function newEventsSql(cursorParam: string): string {
  return `e.xid >= pg_snapshot_xmin(${cursorParam}::pg_snapshot) AND NOT pg_visible_in_snapshot(e.xid, ${cursorParam}::pg_snapshot)`;
}

/** Event trigger: each subject with a matching new event enters (the first such event decides the account). */
export function eventTriggerStatement(journey: Journey, versionId: string, now: Date, cursor: string): Statement {
  const t = journey.trigger;
  if (t.type !== 'event') throw new Error('not an event trigger');
  return triggerStatement(journey, versionId, now, (params, today) => {
    const snap = params.add(cursor, 'text');
    const match = eventMatchSql(t.event, params);
    const s = subjectSql(journey);
    // Few subjects per pass: the audience is evaluated per row (correlated), not grouped over all rollups.
    const audience = compileConditionSql(journey.audience, s.ref, params, today);
    const seen =
      journey.subject.type === 'account'
        ? `SELECT DISTINCT ON (e.account_id) e.account_id AS ev_account, NULL::bigint AS ev_contact FROM events e
            WHERE ${newEventsSql(snap)} AND e.account_id IS NOT NULL AND ${match} ORDER BY e.account_id, e.id`
        : `SELECT DISTINCT ON (e.contact_id) e.account_id AS ev_account, e.contact_id AS ev_contact FROM events e
            WHERE ${newEventsSql(snap)} AND e.contact_id IS NOT NULL AND ${match} ORDER BY e.contact_id, e.id`;
    const from =
      journey.subject.type === 'account'
        ? `seen JOIN accounts a ON a.id = seen.ev_account`
        : `seen JOIN contacts c ON c.id = seen.ev_contact JOIN accounts a ON a.id = COALESCE(seen.ev_account, c.account_id)
           LEFT JOIN account_contacts ac ON ac.account_id = a.id AND ac.contact_id = c.id`;
    return {
      reason: `event ${t.event}`,
      ctes: [`seen AS MATERIALIZED (${seen})`],
      candidates: `SELECT ${s.subjectId} AS subject_id, ${s.accountId} AS account_id, ${s.contactId} AS contact_id FROM ${from} WHERE ${audience}`,
    };
  });
}

/**
 * Wakes running enrollments whose subject had an event their journey listens to (goal
 * events, wait-until events): their step is re-evaluated now instead of at the timeout.
 * The subject id is the contact id (per-contact journeys) or the account id (per-account
 * ones), so both lookups go through the unique index on running (journey, subject). An
 * enrollment in a batch being applied (locked by its claim) is woken after that batch commits,
 * from the position the batch left it in: the update waits for the lock, then re-checks.
 */
export function wakeStatement(pairs: { journeyKey: string; event: string }[], now: Date, cursor: string): Statement {
  const params = new SqlParams();
  const keys = params.add(pairs.map((p) => p.journeyKey), 'text[]');
  const events = params.add(pairs.map((p) => p.event), 'text[]');
  const at = params.add(now.toISOString(), 'timestamptz');
  const snap = params.add(cursor, 'text');
  const sql = `
    WITH w AS MATERIALIZED (
      SELECT DISTINCT l.journey_key, e.account_id, e.contact_id
        FROM events e JOIN unnest(${keys}, ${events}) AS l(journey_key, event) ON l.event = e.name
       WHERE e.type = 'track' AND ${newEventsSql(snap)}
    ), by_contact AS (
      UPDATE enrollments en SET due_at = ${at}, updated_at = ${at} FROM w
       WHERE en.status = 'active' AND en.subject_type = 'contact' AND en.journey_key = w.journey_key
         AND en.subject_id = w.contact_id AND en.due_at > ${at}
      RETURNING en.id
    ), by_account AS (
      UPDATE enrollments en SET due_at = ${at}, updated_at = ${at} FROM w
       WHERE en.status = 'active' AND en.subject_type = 'account' AND en.journey_key = w.journey_key
         AND en.subject_id = w.account_id AND en.due_at > ${at}
      RETURNING en.id
    )
    SELECT (SELECT count(*) FROM by_contact)::int + (SELECT count(*) FROM by_account)::int AS woken`;
  return { sql, params: params.values };
}
