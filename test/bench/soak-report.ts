import * as fs from 'node:fs';
import { Client } from 'pg';

export interface DbSample {
  /** Rows in enrollment_history so far: one per step an enrollment took (its id only grows). */
  history: number;
  dbMb: number;
  backlog: number;
  activeEnrollments: number;
  /** Server connections to this database (all processes' pools), and those running a query. */
  connections: { open: number; active: number };
}

/** What the soak reads from the database: cheap samples while it runs, the counts at the end. */
export class DbProbe {
  private engagementStart = 0;

  constructor(
    private readonly pg: Client,
    /** Virtual start of the run: generated past messages were all sent before it. */
    private readonly start: Date,
  ) {}

  async sample(): Promise<DbSample> {
    const [r] = (
      await this.pg.query(
        `SELECT (SELECT coalesce(max(id), 0) FROM enrollment_history)::bigint AS history,
                pg_database_size(current_database()) AS bytes,
                (SELECT count(*) FROM messages WHERE status IN ('queued', 'deferred') AND scheduled_at <= now() + interval '100 years')::int AS backlog,
                (SELECT count(*) FROM enrollments WHERE status = 'active')::int AS active,
                (SELECT coalesce(max(id), 0) FROM engagement_events)::bigint AS engagement,
                (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid())::int AS open,
                (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active')::int AS busy`,
      )
    ).rows;
    if (!this.engagementStart) this.engagementStart = Number(r.engagement) || -1;
    return { history: Number(r.history), dbMb: Math.round(Number(r.bytes) / 104857.6) / 10, backlog: r.backlog, activeEnrollments: r.active, connections: { open: r.open, active: r.busy } };
  }

  /** Counts to compare with what the load generators were told. */
  async correctness(virtualEnd: Date) {
    const one = async (sql: string, params: unknown[] = []) => Number((await this.pg.query(sql, params)).rows[0].n);
    const soakEvents = await one(`SELECT count(*) AS n FROM events WHERE message_id >= 'soak-' AND message_id < 'soak.'`);
    const sentDuringRun = await one(`SELECT count(*) AS n FROM messages WHERE status = 'sent' AND sent_at > $1`, [this.start]);
    const engagementDuringRun = await one(`SELECT count(*) AS n FROM engagement_events WHERE id > $1 AND kind IN ('open', 'click')`, [Math.max(0, this.engagementStart)]);
    const byStatus = Object.fromEntries(
      (
        await this.pg.query(`SELECT status, count(*)::int AS n FROM messages WHERE created_at > $1 OR sent_at > $1 OR updated_at > $1 GROUP BY status ORDER BY status`, [this.start])
      ).rows.map((r) => [r.status, r.n]),
    );
    // Why messages ended in review or failed (e.g. a generated past message naming a template that does not exist).
    const problems = (
      await this.pg.query(
        `SELECT status, left(reason, 80) AS reason, count(*)::int AS n FROM messages WHERE status IN ('review', 'failed') AND updated_at > $1 GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5`,
        [this.start],
      )
    ).rows;
    return { soakEvents, sentDuringRun, engagementDuringRun, byStatus, problems, virtualEnd: virtualEnd.toISOString() };
  }
}

/** RSS of several processes over time, from /proc. */
export class RssSeries {
  readonly series: Record<string, Array<{ at: number; mb: number }>> = {};

  constructor(private readonly procs: Array<{ name: string; pid: number }>) {
    for (const p of procs) this.series[p.name] = [];
    this.sample();
  }

  sample(): void {
    const at = Date.now();
    for (const p of this.procs) {
      const mb = rssMb(p.pid);
      if (mb !== undefined) this.series[p.name].push({ at, mb });
    }
  }

  latest(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.series).map(([name, s]) => [name, s.length ? s[s.length - 1].mb : 0]));
  }
}

export function rssMb(pid: number): number | undefined {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
    return Number.isFinite(kb) ? Math.round(kb / 102.4) / 10 : undefined;
  } catch {
    return undefined; // the process has exited
  }
}

/** Mean RSS of the first and the last quarter of the run, per process, and the growth between them. */
export function memoryGrowth(series: Record<string, Array<{ at: number; mb: number }>>) {
  const out: Record<string, { firstQuarterMb: number; lastQuarterMb: number; peakMb: number; growth: number }> = {};
  for (const [name, s] of Object.entries(series)) {
    if (s.length < 4) continue;
    const q = Math.floor(s.length / 4);
    const mean = (xs: typeof s) => xs.reduce((a, x) => a + x.mb, 0) / xs.length;
    const first = mean(s.slice(0, q));
    const last = mean(s.slice(-q));
    out[name] = { firstQuarterMb: Math.round(first), lastQuarterMb: Math.round(last), peakMb: Math.round(Math.max(...s.map((x) => x.mb))), growth: Math.round((last / first - 1) * 1000) / 1000 };
  }
  return out;
}
