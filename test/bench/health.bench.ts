import { NestFactory } from '@nestjs/core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { SystemClock } from '../../src/common/clock';
import { Db } from '../../src/database/db';
import { HealthService } from '../../src/health/health.service';
import { SignalsService } from '../../src/signals/signals.service';
import { testConfig } from '../support/app';
import { scoreOneAccountJs, writeOneAccountJs } from '../support/health-per-account';
import { benchDatabase } from './bench-db';
import { generateHealthData } from './health-data';
import { line, summary } from './report';

/**
 * `npm run bench -- health [--accounts 100000] [--sample 1000]`: the set-based recompute of
 * every account's health (one statement, writing account_health and the day's snapshots),
 * against the same run's per-account path (usage through SignalsService, one query per other
 * component, maths in JavaScript, one write per account) timed on a sample and extrapolated.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const accounts = opt('accounts', 100_000);
  const sampleSize = Math.min(opt('sample', 1000), accounts);
  const db = await benchDatabase('health');
  // npm run bench runs at the repository root, where the shipped health.yaml is.
  const config = testConfig({ LOG_LEVEL: 'warn', HEALTH_MODEL_FILE: path.resolve('health.yaml') });
  try {
    const started = Date.now();
    await generateHealthData(db.url, accounts, line);
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const [{ rollups }] = (await pg.query(`SELECT count(*)::int AS rollups FROM event_rollups`)).rows;
    line({ phase: 'data', accounts, rollups, seconds: (Date.now() - started) / 1000 });

    const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, clock: new SystemClock(), databaseUrl: db.url }), { logger: ['error', 'warn'] });
    try {
      const health = app.get(HealthService);
      // First run inserts every row, the second updates them (same day): both are timed.
      const runs: number[] = [];
      for (const kind of ['first (insert)', 'again (update, same day)']) {
        const t0 = process.hrtime.bigint();
        const report = await health.recompute();
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        runs.push(seconds);
        line({ phase: 'set-based', run: kind, accounts: report?.accounts, bands: report?.bands, seconds: Math.round(seconds * 1000) / 1000 });
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
