import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Condition, TRUE } from '../../src/conditions/condition';
import { parseCondition } from '../../src/conditions/parse';
import { Journey, Step } from '../../src/journeys/journey';
import { JourneyVersionsService } from '../../src/engine/journey-versions.service';
import { StepRunnerService } from '../../src/engine/step-runner.service';
import { TriggersService } from '../../src/engine/triggers.service';
import { startTestApp, TestApp } from '../support/app';
import type { TestDatabase } from '../support/db';

export const cond = (s: string): Condition => parseCondition(s);

/** A journey with sensible defaults; tests override what they exercise. */
export function journey(over: Partial<Journey> & { key: string; steps: Step[] }): Journey {
  return {
    name: over.key,
    phase: 'adoption',
    priority: 50,
    status: 'active',
    subject: { type: 'contact' },
    audience: TRUE,
    segments: [],
    trigger: { type: 'event', event: 'signup' },
    reentry: { policy: 'never' },
    holdoutPercent: 0,
    ...over,
  };
}

export const send = (id: string, template: string, next?: string): Step => ({ id, type: 'send', template, category: 'marketing', next });

/** A templates directory with the given template names (one ja file each). */
export function templatesDir(names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-engine-templates-'));
  for (const n of names) {
    fs.mkdirSync(path.join(dir, n));
    fs.writeFileSync(path.join(dir, n, 'ja.mjml'), '<mjml><mj-body></mj-body></mjml>');
  }
  return dir;
}

export interface EngineHarness {
  t: TestApp;
  versions: JourneyVersionsService;
  triggers: TriggersService;
  steps: StepRunnerService;
  /** Stores these journeys as the complete set of journey files. */
  load(...journeys: Journey[]): Promise<void>;
  /** Advances virtual time in steps, running events and steps at each one and the scheduled triggers once a virtual day. */
  run(days: number, stepHours?: number): Promise<void>;
  q<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
}

export async function engineHarness(options: { now?: string; templates?: string[]; env?: Record<string, string>; db?: TestDatabase } = {}): Promise<EngineHarness> {
  const t = await startTestApp({
    db: options.db,
    now: options.now ?? '2026-11-20T00:00:00Z',
    env: { TEMPLATES_DIR: templatesDir(options.templates ?? ['welcome', 'reminder', 'tips', 'recap']), ENGINE_RETRY_BASE_MS: '60000', ...(options.env ?? {}) },
  });
  const versions = t.app.get(JourneyVersionsService);
  const triggers = t.app.get(TriggersService);
  const steps = t.app.get(StepRunnerService);
  const h: EngineHarness = {
    t,
    versions,
    triggers,
    steps,
    async load(...journeys) {
      await versions.sync({ journeys, files: journeys.map((j) => ({ file: j.source ?? `${j.key}.yaml`, valid: true })), problems: [], dirExists: true });
    },
    async run(days, stepHours = 1) {
      const end = t.clock.now().getTime() + days * 86_400_000;
      let lastTick = 0;
      while (t.clock.now().getTime() < end) {
        const now = t.clock.advance(stepHours * 3_600_000).getTime();
        await triggers.processEvents();
        if (now - lastTick >= 86_400_000) {
          await triggers.tick();
          lastTick = now;
        }
        await steps.drain();
      }
    },
    q: (sql, params) => t.db.query(sql, params),
  };
  return h;
}

/** Accounts and contacts straight into the tables (ingestion is tested elsewhere). */
export async function seedPeople(
  h: EngineHarness,
  accounts: { ext: string; phase?: string; timezone?: string | null; renewal?: string; csm?: string; contacts: { ext: string; email?: string | null; role?: string; timezone?: string | null; locale?: string }[] }[],
): Promise<{ account: Record<string, string>; contact: Record<string, string> }> {
  const now = h.t.clock.now();
  const out = { account: {} as Record<string, string>, contact: {} as Record<string, string> };
  for (const a of accounts) {
    const [row] = await h.q(
      `INSERT INTO accounts (external_id, name, phase, timezone, renewal_date, csm_owner, created_at, updated_at) VALUES ($1, $1, $2, $3, $4, $5, $6, $6) RETURNING id`,
      [a.ext, a.phase ?? 'adoption', a.timezone ?? null, a.renewal ?? null, a.csm ?? null, now],
    );
    out.account[a.ext] = String(row.id);
    for (const c of a.contacts) {
      const [cr] = await h.q(
        `INSERT INTO contacts (external_id, account_id, email, name, role, timezone, locale, consent_marketing, created_at, updated_at)
         VALUES ($1, $2, $3, $1, $4, $5, $6, true, $7, $7) RETURNING id`,
        [c.ext, row.id, c.email === undefined ? `${c.ext}@example.com` : c.email, c.role ?? 'member', c.timezone ?? null, c.locale ?? null, now],
      );
      await h.q(`INSERT INTO account_contacts (account_id, contact_id, role, joined_at) VALUES ($1, $2, $3, $4)`, [row.id, cr.id, c.role ?? 'member', now]);
      out.contact[c.ext] = String(cr.id);
    }
  }
  return out;
}

/** Tracked events through the real ingestion API (rollups, xid, notifier). */
export async function track(h: EngineHarness, events: { user: string; event: string; at?: string; group?: string }[]): Promise<void> {
  const batch = events.map((e, i) => ({
    type: 'track',
    userId: e.user,
    event: e.event,
    timestamp: e.at ?? h.t.clock.now().toISOString(),
    messageId: `m-${e.user}-${e.event}-${e.at ?? h.t.clock.now().toISOString()}-${i}-${Math.random()}`,
    ...(e.group ? { context: { groupId: e.group } } : {}),
  }));
  const res = await h.t.request('POST', '/v1/batch', { body: { batch }, key: 'ingest' });
  if (res.status !== 200 || res.body.rejected?.length) throw new Error(`ingest failed: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function historyOf(h: EngineHarness, enrollmentId: string): Promise<string[]> {
  const rows = await h.q(`SELECT coalesce(step_id, '-') || ':' || outcome AS x FROM enrollment_history WHERE enrollment_id = $1 ORDER BY id`, [enrollmentId]);
  return rows.map((r) => r.x);
}
