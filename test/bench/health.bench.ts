import { NestFactory } from '@nestjs/core';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { SystemClock } from '../../src/common/clock';
import { Db } from '../../src/database/db';
import { HealthService } from '../../src/health/health.service';
import { SignalsService } from '../../src/signals/signals.service';
import { testConfig } from '../support/app';
import { scoreOneAccountJs, writeOneAccountJs } from '../support/health-per-account';
import { cachedDatabase } from './bench-db';
import { generateHealthData } from './health-data';
import { line, numberOption, summary } from './report';

/**
 * CPU seconds the database server has used so far for this database: its backends' user+system
 * time plus the time of exited children (parallel workers) of the postmaster. Wall time on a
 * shared machine depends on what else runs; CPU time much less. Null when the server is not a
 * local one we can read /proc for (BENCH_DATABASE_URL elsewhere, or not Linux).
 */
async function serverCpuSeconds(pg: Client): Promise<number | null> {
  try {
    const [{ dir }] = (await pg.query(`SELECT current_setting('data_directory') AS dir`)).rows;
    const postmaster = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const pids: number[] = (await pg.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)).rows.map((r) => r.pid);
    const ticks = (pid: number, fields: number[]) => {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return fields.reduce((n, i) => n + Number(f[i]), 0);
    };
    let total = ticks(postmaster, [13, 14]); // cutime, cstime: exited children
    for (const pid of pids) total += ticks(pid, [11, 12]); // utime, stime
    return total / 100; // USER_HZ
  } catch {
    return null;
  }
}

/**
 * `npm run bench -- health [--accounts 100000] [--sample 1000] [--shards 2] [--fresh]`: the set-based recompute of
 * every account's health (one statement, writing account_health and the day's snapshots),
 * against the same run's per-account path (usage through SignalsService, one query per other
 * component, maths in JavaScript, one write per account) timed on a sample and extrapolated.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: number) => numberOption(args, name, def);
  const accounts = opt('accounts', 100_000);
  const sampleSize = Math.min(opt('sample', 1000), accounts);
  const fresh = args.includes('--fresh');
  // Connections the recompute splits its accounts over (HEALTH_RECOMPUTE_SHARDS; 1 = one transaction, as before).
  const shards = opt('shards', 2);
  const started = Date.now();
  // Generation is cached between runs (a template database on the persistent bench server, see cachedDatabase).
  const db = await cachedDatabase(`health_${accounts}`, (url) => generateHealthData(url, accounts, line), { regenerate: fresh, log: (msg) => line({ phase: 'data', msg }) });
  // npm run bench runs at the repository root, where the shipped health.yaml is.
  const config = testConfig({ LOG_LEVEL: 'warn', HEALTH_MODEL_FILE: path.resolve('health.yaml'), HEALTH_RECOMPUTE_SHARDS: String(shards) });
  try {
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const [{ rollups }] = (await pg.query(`SELECT count(*)::int AS rollups FROM event_rollups`)).rows;
    line({ phase: 'data', accounts, rollups, generated: db.generated, seconds: (Date.now() - started) / 1000 });

    const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, clock: new SystemClock(), databaseUrl: db.url }), { logger: ['error', 'warn'] });
    try {
      const health = app.get(HealthService);
      // First run inserts every row, the second updates them (same day): both are timed.
      const runs: number[] = [];
      const cpu: (number | null)[] = [];
      for (const kind of ['first (insert)', 'again (update, same day)']) {
        const c0 = await serverCpuSeconds(pg);
        const t0 = process.hrtime.bigint();
        const report = await health.recompute();
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const c1 = await serverCpuSeconds(pg);
        const cpuSeconds = c0 === null || c1 === null ? null : Math.round((c1 - c0) * 100) / 100;
        runs.push(seconds);
        cpu.push(cpuSeconds);
        line({ phase: 'set-based', run: kind, accounts: report?.accounts, bands: report?.bands, seconds: Math.round(seconds * 1000) / 1000, serverCpuSeconds: cpuSeconds, phasesMs: report?.phases, loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) });
      }
      const [{ current, snapshots }] = (await pg.query(`SELECT (SELECT count(*)::int FROM account_health) AS current, (SELECT count(*)::int FROM health_snapshots) AS snapshots`)).rows;
      if (current !== accounts || snapshots !== accounts) throw new Error(`expected ${accounts} scores and snapshots, got ${current} and ${snapshots}`);
      const value = Math.max(...runs);

      // Baseline: the per-account path on an evenly spread sample, checked against the set-based results.
      const ids: string[] = (await pg.query(`SELECT id FROM accounts ORDER BY id`)).rows.filter((_, i) => i % Math.floor(accounts / sampleSize) === 0).slice(0, sampleSize).map((r) => String(r.id));
      const sqlScores = new Map<string, number>((await pg.query(`SELECT account_id, score::float8 AS score FROM account_health WHERE account_id = ANY($1::bigint[])`, [ids])).rows.map((r) => [String(r.account_id), r.score]));
      const signals = app.get(SignalsService);
      const dbs = app.get(Db);
      const model = health.model();
      const now = new SystemClock().now();
      let mismatches = 0;
      const t0 = process.hrtime.bigint();
      for (const id of ids) {
        const r = await scoreOneAccountJs(signals, dbs, model, id, now);
        await writeOneAccountJs(dbs, id, r, now);
        if (r.score !== sqlScores.get(id)) mismatches++;
      }
      const sampleSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const baseline = (sampleSeconds / ids.length) * accounts;
      line({ phase: 'baseline', mode: 'per account in JavaScript via SignalsService', sample: ids.length, sampleSeconds: Math.round(sampleSeconds * 1000) / 1000, extrapolatedSeconds: Math.round(baseline * 10) / 10, scoreMismatches: mismatches });
      if (mismatches) throw new Error(`${mismatches} of ${ids.length} sampled accounts scored differently per account than set-based`);
      summary({
        bench: 'health',
        value: Math.round(value * 1000) / 1000,
        unit: 's',
        baseline: Math.round(baseline * 10) / 10,
        ratio: Math.round((baseline / value) * 10) / 10,
        target: `< 10 s to recompute ${accounts.toLocaleString('en')} accounts`,
        accounts,
        rollups,
        runs: runs.map((s) => Math.round(s * 1000) / 1000),
        serverCpuSeconds: cpu,
        shards,
        cores: os.cpus().length,
        loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
      });
    } finally {
      await app.close();
      await pg.end();
    }
  } finally {
    await db.close();
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  }
}
