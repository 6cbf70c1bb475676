import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { utcDay, VirtualClock } from '../../src/common/clock';
import { allOf } from '../../src/conditions/condition';
import { ConditionsRepository } from '../../src/conditions/conditions.repository';
import { evaluateCondition } from '../../src/conditions/evaluate';
import { requiredFacts } from '../../src/conditions/facts';
import { parseCondition } from '../../src/conditions/parse';
import { loadConfig } from '../../src/config/config';
import { JourneyVersionsService } from '../../src/engine/journey-versions.service';
import { StepRunnerService } from '../../src/engine/step-runner.service';
import { TriggersService } from '../../src/engine/triggers.service';
import { Journey } from '../../src/journeys/journey';
import { PreviewLinkBuilder } from '../../src/templates/links';
import { RenderContextBuilder } from '../../src/templates/render-context.builder';
import { TemplatesService } from '../../src/templates/templates.service';
import { TEST_KEYS } from '../support/app';
import { cachedDatabase } from './bench-db';
import { cpuMeter, processCpuSeconds, treeCpuSeconds } from './cpu-usage';
import { line, numberOption, rssSampler, summary } from './report';

const NOW = '2026-11-20T03:00:00Z';
const ROOT = path.resolve(__dirname, '../../..');
const TEMPLATE = 'adoption-we-miss-you';

/**
 * `npm run bench -- engine [--accounts 100000] [--contacts 1000000] [--events 10000000]
 * [--due 100000] [--sample 2000] [--workers 4]`
 *
 * Generates the data set-based in SQL (generate_series; rollups derived from the events;
 * cached between runs as a template database under var/bench-cache/),
 * then (a) evaluates one condition trigger over every contact and inserts its enrollments
 * (one statement), against a same-run baseline that evaluates the same condition per
 * contact in JavaScript through the signals service on a random sample, extrapolated to
 * all contacts; and (b) advances due enrollments through a send step (claims, facts, fenced
 * batch apply with outbox rows), with `--workers` step runners in this process.
 */
export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def: number) => numberOption(args, name, def);
  const accounts = opt('accounts', 100_000);
  const contacts = opt('contacts', 1_000_000);
  const events = opt('events', 10_000_000);
  const due = opt('due', 100_000);
  const sample = opt('sample', 2000);
  const workers = opt('workers', 4);
  const rss = rssSampler();
  // Generation is cached between runs (a template database on the persistent bench server, see cachedDatabase).
  const t0 = Date.now();
  const db = await cachedDatabase(`engine_${accounts}_${contacts}_${events}`, async (url) => {
    const gen = new Client({ connectionString: url });
    await gen.connect();
    await generate(gen, { accounts, contacts, events }).finally(() => gen.end());
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-bench-engine-'));
  // The repository's real templates (layouts, partials, features.yaml): (b) sends adoption-we-miss-you, as a real journey does.
  fs.cpSync(path.join(ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'journeys'));
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  try {
    const [{ rollups }] = (await pg.query(`SELECT count(*)::int AS rollups FROM event_rollups`)).rows;
    line({ phase: 'generate', accounts, contacts, events, rollups, cached: !db.generated, seconds: (Date.now() - t0) / 1000 });

    const config = {
      ...loadConfig({
        DATABASE_URL: db.url,
        DATA_DIR: dir,
        LOG_LEVEL: 'warn',
        TOUCHLINE_ROLE: 'api',
        TEMPLATES_DIR: path.join(dir, 'templates'),
        JOURNEYS_DIR: path.join(dir, 'journeys'),
        DATABASE_POOL_SIZE: String(workers + 4),
        ENGINE_BATCH_SIZE: '1000',
        TOUCHLINE_INGEST_KEY: TEST_KEYS.ingest,
        TOUCHLINE_AUTHOR_KEY: TEST_KEYS.author,
        TOUCHLINE_REVIEW_KEY: TEST_KEYS.review,
        TOUCHLINE_ADMIN_KEY: TEST_KEYS.admin,
      }),
    };
    // CPU seconds of the PostgreSQL server (when it runs on this machine) and of this process, per phase:
    // unlike the rates, they barely move when other work shares the machine.
    const [{ backend }] = (await pg.query(`SELECT pg_backend_pid() AS backend`)).rows;
    const postmaster = fs.existsSync(`/proc/${backend}/stat`) ? Number(fs.readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1].split(' ')[1]) : undefined;
    const pgCpu = cpuMeter(() => (postmaster ? treeCpuSeconds(postmaster) : 0));
    const nodeCpu = cpuMeter(() => processCpuSeconds(process.pid));
    const cpu = () => ({ postgresCpuSeconds: postmaster ? pgCpu.used() : null, nodeCpuSeconds: nodeCpu.used() });
    const clock = new VirtualClock(NOW);
    const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, clock, databaseUrl: db.url }), { logger: ['error', 'warn'] });
    try {
      const idle: Journey = {
        key: 'bench-idle',
        name: 'adoption: no login for 14 days',
        phase: 'adoption',
        priority: 60,
        status: 'active',
        subject: { type: 'contact' },
        audience: parseCondition('account.phase = adoption and account.plan = growth and contact.consent'),
        segments: [],
        trigger: { type: 'condition', condition: parseCondition('count(login, 14d) = 0 and occurred(login)') },
        reentry: { policy: 'cooldown', days: 30 },
        holdoutPercent: 10,
        steps: [{ id: 'miss-you', type: 'send', template: TEMPLATE, category: 'marketing', next: undefined }],
      };
      const sender: Journey = { ...idle, key: 'bench-send', trigger: { type: 'event', event: 'bench_never' }, reentry: { policy: 'never' }, holdoutPercent: 0,
        steps: [
          { id: 'mail', type: 'send', template: TEMPLATE, category: 'marketing', next: 'pause' },
          { id: 'pause', type: 'wait', durationMs: 7 * 86_400_000, next: undefined },
        ] };
      await app.get(JourneyVersionsService).sync({ journeys: [idle, sender], files: [], problems: [], dirExists: true });
      await pg.query('ANALYZE');

      if (args.includes('--explain')) {
        const { conditionTriggerStatement } = await import('../../src/engine/trigger-sql');
        const v = await pg.query(`SELECT current_version_id FROM journeys WHERE key = 'bench-idle'`);
        const st = conditionTriggerStatement(idle, String(v.rows[0].current_version_id), clock.now());
        await pg.query('BEGIN');
        const plan = await pg.query(`EXPLAIN (ANALYZE, BUFFERS) ${st.sql}`, st.params);
        await pg.query('ROLLBACK');
        process.stderr.write(plan.rows.map((r) => r['QUERY PLAN']).join('\n') + '\n');
      }
      // (a) one condition trigger, set-based: ONE statement evaluates every contact and inserts the enrollments.
      pgCpu.restart();
      nodeCpu.restart();
      const ta = process.hrtime.bigint();
      const [runA] = await app.get(TriggersService).evaluateConditions();
      const setSeconds = Number(process.hrtime.bigint() - ta) / 1e9;
      if (runA.error) throw new Error(runA.error);
      line({ phase: 'trigger', journey: idle.key, contacts, matched: runA.candidates, enrolled: runA.enrolled, seconds: setSeconds, ...cpu() });

      // Baseline: the same condition per contact in JavaScript through the signals service (random sample, extrapolated).
      const cond = allOf(idle.audience, (idle.trigger as { condition: any }).condition);
      const need = requiredFacts(cond, 'contact');
      const ids = (await pg.query(`SELECT (1 + floor(random() * $1))::bigint::text AS id FROM generate_series(1, $2)`, [contacts, sample])).rows.map((r) => r.id);
      const facts = app.get(ConditionsRepository);
      const today = utcDay(clock.now());
      let matchedSample = 0;
      const tb = process.hrtime.bigint();
      for (const id of ids) {
        const f = (await facts.facts('contact', [id], need, today)).get(id);
        if (f && evaluateCondition(cond, f).value) matchedSample++;
      }
      const sampleSeconds = Number(process.hrtime.bigint() - tb) / 1e9;
      const baselineSeconds = (sampleSeconds / sample) * contacts;
      line({ phase: 'baseline', sample, sampleSeconds, perContactMs: (sampleSeconds / sample) * 1000, extrapolatedSeconds: baselineSeconds, matchedShare: matchedSample / sample, setMatchedShare: (runA.candidates ?? 0) / contacts });

      // (b) due enrollments through a send step.
      await pg.query(`UPDATE enrollments SET due_at = NULL, status = 'exited', ended_at = $1 WHERE journey_key = 'bench-idle'`, [clock.now()]);
      await pg.query(
        `INSERT INTO enrollments (journey_key, version_id, subject_type, subject_id, account_id, contact_id, status, step_id, step_started_at, entered_at, due_at, holdout, created_at, updated_at)
         SELECT 'bench-send', j.current_version_id, 'contact', c.id, c.account_id, c.id, 'active', 'mail', $1, $1, $1, false, $1, $1
           FROM journeys j, contacts c WHERE j.key = 'bench-send' AND c.id <= $2`,
        [clock.now(), due],
      );
      await pg.query('ANALYZE enrollments');
      const runner = app.get(StepRunnerService);
      await app.get(TemplatesService).names(); // the templates are compiled once per process (MJML), before the clock starts
      pgCpu.restart();
      nodeCpu.restart();
      const tc = process.hrtime.bigint();
      const results = await Promise.all(Array.from({ length: workers }, () => runner.drain(100_000)));
      const stepSeconds = Number(process.hrtime.bigint() - tc) / 1e9;
      const stepCpu = cpu();
      const advanced = results.reduce((s, r) => s + r.advanced, 0);
      const [{ queued }] = (await pg.query(`SELECT count(*)::int AS queued FROM messages WHERE journey_key = 'bench-send'`)).rows;
      const [{ waiting }] = (await pg.query(`SELECT count(*)::int AS waiting FROM enrollments WHERE journey_key = 'bench-send' AND step_id = 'pause' AND status = 'active'`)).rows;
      if (queued !== due || waiting !== due) throw new Error(`expected ${due} sends and waits, got ${queued} outbox rows and ${waiting} waiting`);
      // Outside the clock: every message is pinned, and a sample re-renders from its stored context exactly as from the whole standard context.
      const [{ pinned, contextBytes }] = (await pg.query(`SELECT count(template_version)::int AS pinned, round(avg(pg_column_size(context)))::int AS "contextBytes" FROM messages WHERE journey_key = 'bench-send'`)).rows;
      if (pinned !== due) throw new Error(`expected ${due} pinned messages, got ${pinned}`);
      await checkRenders(app, pg);
      const stepsPerSecond = Math.round(advanced / stepSeconds);
      const ms = results.reduce((s, r) => ({ claim: s.claim + r.ms.claim, read: s.read + r.ms.read, apply: s.apply + r.ms.apply }), { claim: 0, read: 0, apply: 0 });
      const perStep = (sec: number | null) => (sec === null ? null : Math.round((sec * 1e6) / advanced) / 1000);
      line({ phase: 'steps', enrollments: due, advanced, outboxRows: queued, template: TEMPLATE, contextBytes, workers, seconds: stepSeconds, stepsPerSecond, workerMs: ms, ...stepCpu,
        cpuMsPerStep: { postgres: perStep(stepCpu.postgresCpuSeconds), node: perStep(stepCpu.nodeCpuSeconds) }, target: '>= 5000 steps/s' });

      const peak = rss.peakMb();
      summary({
        bench: 'engine',
        value: Math.round(setSeconds * 1000) / 1000,
        unit: 's (one condition trigger over all contacts, enrollments inserted)',
        baseline: Math.round(baselineSeconds * 10) / 10,
        ratio: Math.round(baselineSeconds / setSeconds),
        target: '< 5 s and >= 50x; steps >= 5000/s; peak RSS < 512 MB',
        contacts,
        enrolled: runA.enrolled,
        stepsPerSecond,
        peakRssMb: peak,
      });
    } finally {
      await app.close();
    }
  } finally {
    rss.stop();
    await pg.end();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Five stored messages render from their pinned version and stored context exactly as from the whole context built now. */
async function checkRenders(app: INestApplicationContext, pg: Client): Promise<void> {
  const templates = app.get(TemplatesService);
  const rows = (await pg.query(`SELECT contact_id::text, account_id::text, template_version, locale, context FROM messages WHERE journey_key = 'bench-send' ORDER BY id LIMIT 5`)).rows;
  for (const m of rows) {
    const whole = { ...(await app.get(RenderContextBuilder).forRecipient(m.contact_id, m.account_id)), journey: m.context.journey, now: m.context.now };
    const [a, b] = [await templates.renderVersion(m.template_version, m.locale, m.context, new PreviewLinkBuilder()), await templates.renderVersion(m.template_version, m.locale, whole, new PreviewLinkBuilder())];
    if (a.html !== b.html || a.text !== b.text || a.subject !== b.subject) throw new Error(`message of contact ${m.contact_id}: the stored context renders differently from the whole context`);
  }
}

/**
 * Set-based generation. Phases by account (25% onboarding, 35% adoption, 25% established,
 * 10% renewal, 5% churned), plans in thirds; ten events per contact over 60 days, five event
 * names; 30% of contacts "fading" (nothing in the last 20 days). Rollups are derived from the
 * events with one GROUP BY, exactly as ingestion would have maintained them.
 */
async function generate(pg: Client, n: { accounts: number; contacts: number; events: number }): Promise<void> {
  const now = NOW;
  await pg.query('SET synchronous_commit = off');
  await pg.query(
    `INSERT INTO accounts (external_id, name, plan, phase, created_at, updated_at)
     SELECT 'acct-' || g, 'Account ' || g, (ARRAY['starter','growth','enterprise'])[1 + g % 3],
            CASE WHEN g % 20 < 5 THEN 'onboarding' WHEN g % 20 < 12 THEN 'adoption' WHEN g % 20 < 17 THEN 'established' WHEN g % 20 < 19 THEN 'renewal' ELSE 'churned' END,
            $1, $1
       FROM generate_series(1, $2) g`,
    [now, n.accounts],
  );
  await pg.query(
    `INSERT INTO contacts (external_id, account_id, email, role, consent_marketing, created_at, updated_at)
     SELECT 'user-' || g, 1 + g % $2, 'user' || g || '@example.com', CASE WHEN g % 10 = 0 THEN 'admin' ELSE 'member' END, g % 17 <> 0, $1, $1
       FROM generate_series(1, $3) g`,
    [now, n.accounts, n.contacts],
  );
  await pg.query(`INSERT INTO account_contacts (account_id, contact_id, role, joined_at) SELECT account_id, id, role, created_at FROM contacts`);
  // Bulk load: index maintenance after the rows are in is several times faster.
  await pg.query(`ALTER TABLE events DROP CONSTRAINT events_pkey`);
  await pg.query(`DROP INDEX events_occurred_brin, events_xid_idx, events_people_idx`);
  await pg.query(
    `INSERT INTO events (message_id, type, name, properties, occurred_at, received_at, account_id, contact_id)
     SELECT 'gen-' || g, 'track', (ARRAY['login','report_created','export_csv','dashboard_viewed','mail_sent'])[1 + ((g / $3) + c) % 5], '{}'::jsonb,
            $1::timestamptz - make_interval(days => (CASE WHEN c % 10 < 3 THEN 20 + (g * 7919) % 40 ELSE (g * 7919) % 60 END)::int, secs => (g % 86400)::float8),
            $1::timestamptz, 1 + c % $4, c
       FROM generate_series(0::bigint, $2::bigint - 1) g, LATERAL (SELECT 1 + g % $3 AS c) x`,
    [now, n.events, n.contacts, n.accounts],
  );
  await pg.query(`ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (message_id)`);
  await pg.query(`CREATE INDEX events_occurred_brin ON events USING brin (occurred_at) WITH (pages_per_range = 32, autosummarize = on)`);
  await pg.query(`CREATE INDEX events_xid_idx ON events (xid)`);
  await pg.query(`CREATE INDEX events_people_idx ON events (contact_id, type, id) WHERE type IN ('identify','group')`);
  await pg.query(`ALTER TABLE event_rollups DROP CONSTRAINT event_rollups_pkey`);
  await pg.query(`DROP INDEX event_rollups_contact_idx`);
  await pg.query(
    `INSERT INTO event_rollups (account_id, event, day, contact_id, count, first_at, last_at)
     SELECT account_id, name, (occurred_at AT TIME ZONE 'UTC')::date, contact_id, count(*), min(occurred_at), max(occurred_at)
       FROM events GROUP BY 1, 2, 3, 4`,
  );
  await pg.query(`ALTER TABLE event_rollups ADD PRIMARY KEY (account_id, event, day, contact_id)`);
  await pg.query(`CREATE INDEX event_rollups_contact_idx ON event_rollups (contact_id, event, day) WHERE contact_id <> 0`);
  await pg.query(`INSERT INTO event_names (name, first_seen) SELECT DISTINCT name, $1::timestamptz FROM events WHERE name IS NOT NULL`, [now]);
  await pg.query('VACUUM ANALYZE');
}
