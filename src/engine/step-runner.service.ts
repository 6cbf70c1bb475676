import { Inject, Injectable, Logger } from '@nestjs/common';
import * as os from 'node:os';
import { Clock, isoTime, utcDay } from '../common/clock';
import { copyWith } from '../common/copy-with';
import { TRUE } from '../conditions/condition';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { savepoint, Tx } from '../database/db';
import { isEmailAddress, NewMessage, OutboxService } from '../delivery/outbox.service';
import { Journey, SendStep } from '../journeys/journey';
import { AdvancePlan, planAdvance } from './advance';
import { ALL_CONTEXT, ContextNeeds, PinnedTemplate, RenderContextSource, TemplateCatalog } from './adapters';
import { ApplyBatch, ClaimedEnrollment, endsClaim, EnrollmentsRepository, FactsRow, Recipient } from './enrollments.repository';
import { batchRequirements, subjectTimezone, toFacts } from './facts-builder';
import { JourneyVersionsRepository } from './journey-versions.repository';
import { JourneyVersionsService } from './journey-versions.service';

export interface RunResult {
  claimed: number;
  advanced: number;
  retried: number;
  failed: number;
  /** Claimed, then lost before the commit (the session ended): nothing of them was written. */
  leaseLost: number;
  /** Where the time went (ms): claiming, reading facts and recipients, applying. */
  ms: { claim: number; read: number; apply: number };
}

interface Planned {
  e: ClaimedEnrollment;
  journey: Journey;
  facts: FactsRow;
  /** Named signal values at this moment (stored with hand-offs). */
  signals: Record<string, number | null>;
  plan: AdvancePlan;
}

/**
 * Executes due steps. A batch is one transaction: claim (row locks, SKIP LOCKED; the locks are
 * the lease, bounded by the server, see `EnrollmentsRepository.inClaim`), fetch the facts of
 * the whole batch in one query per subject kind, let the pure planner (`decide()` per step)
 * say what happens, and apply every enrollment's outcome with set-based statements; a worker
 * whose session ended writes nothing. If the batch's writes fail, they are undone (a
 * savepoint) and each enrollment is applied alone: one bad enrollment never blocks the rest.
 */
@Injectable()
export class StepRunnerService {
  private readonly log = new Logger('StepRunner');
  readonly workerId = `${os.hostname()}:${process.pid}`;

  constructor(
    private readonly repo: EnrollmentsRepository,
    private readonly journeys: JourneyVersionsRepository,
    private readonly versions: JourneyVersionsService,
    private readonly templates: TemplateCatalog,
    private readonly contexts: RenderContextSource,
    private readonly clock: Clock,
    private readonly outbox: OutboxService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private readonly enqueue = (tx: Tx, messages: NewMessage[]) => this.outbox.enqueueMany(tx, messages);

  /** Runs batches until nothing is due (or `maxBatches`). */
  /** Runs batches until none is due, `maxBatches` ran, or `stopping()` says the process is shutting down. */
  async drain(maxBatches = 1000, stopping: () => boolean = () => false): Promise<RunResult> {
    const total: RunResult = { claimed: 0, advanced: 0, retried: 0, failed: 0, leaseLost: 0, ms: { claim: 0, read: 0, apply: 0 } };
    for (let i = 0; i < maxBatches && !stopping(); i++) {
      const r = await this.runOnce();
      for (const k of ['claimed', 'advanced', 'retried', 'failed', 'leaseLost'] as const) total[k] += r[k];
      for (const k of ['claim', 'read', 'apply'] as const) total.ms[k] += r.ms[k];
      if (r.claimed === 0) break;
    }
    return total;
  }

  /**
   * One batch, in one claim transaction (`EnrollmentsRepository.inClaim`): claim, read, plan,
   * apply, record failures, commit. If the session ends before the commit (a stalled worker
   * outlived its lease, or the connection broke), nothing of the batch is written and the
   * whole claim counts as `leaseLost`: another worker takes the enrollments again.
   */
  async runOnce(limit = this.config.engine.batchSize): Promise<RunResult> {
    const now = this.clock.now();
    const keys = await this.journeys.activeKeys();
    const empty = (): RunResult => ({ claimed: 0, advanced: 0, retried: 0, failed: 0, leaseLost: 0, ms: { claim: 0, read: 0, apply: 0 } });
    if (!keys.length) return empty();
    let result = empty();
    try {
      return await this.repo.inClaim(this.config.engine.leaseMs, this.workerId, (tx) => {
        result = empty(); // a fresh count per attempt (a deadlock retries the whole transaction)
        return this.runBatch(tx, keys, limit, now, result);
      });
    } catch (err) {
      if (!endsClaim(err)) throw err;
      const claimed = result.claimed;
      this.log.warn(`batch of ${claimed} claimed enrollments lost before its commit (nothing of it was written): ${message(err)}`);
      return { ...empty(), claimed, leaseLost: claimed };
    }
  }

  /** The batch's work in its claim transaction `tx`, counted into `result` as it goes (so a lost claim still knows its size). */
  private async runBatch(tx: Tx, keys: string[], limit: number, now: Date, result: RunResult): Promise<RunResult> {
    let mark = performance.now();
    const lap = (k: keyof RunResult['ms']) => {
      const t = performance.now();
      result.ms[k] += Math.round(t - mark);
      mark = t;
    };
    const claimed = await this.repo.claim(tx, keys, now, limit);
    result.claimed = claimed.length;
    lap('claim');
    if (!claimed.length) return result;
    const versions = await this.versions.versions(claimed.map((e) => e.versionId));
    const templateNames = await this.templates.names();
    const planned: Planned[] = [];
    const failures: { e: ClaimedEnrollment; error: string }[] = [];
    const today = utcDay(now);

    for (const subject of ['contact', 'account'] as const) {
      const group = claimed.filter((e) => e.subjectType === subject);
      if (!group.length) continue;
      const journeys = [...new Set(group.map((e) => e.versionId))].flatMap((id) => (versions.has(id) ? [versions.get(id)!.journey] : []));
      const req = batchRequirements(journeys, subject);
      let facts: Map<string, FactsRow>;
      try {
        facts = await savepoint(tx, () => this.repo.facts(subject, group.map((e) => e.id), req.signals, req.events, today, req.read, tx));
      } catch (err) {
        for (const e of group) failures.push({ e, error: `reading facts failed: ${message(err)}` });
        continue;
      }
      for (const e of group) {
        const v = versions.get(e.versionId);
        const row = facts.get(e.id);
        if (!v || !row) {
          failures.push({ e, error: !v ? `journey version ${e.versionId} not found` : `account ${e.accountId} no longer exists` });
          continue;
        }
        try {
          const f = toFacts(row, req, now, e.enteredAt);
          const plan = planAdvance({
            journey: v.journey,
            state: { stepId: e.stepId, stepStartedAt: e.stepStartedAt, enteredAt: e.enteredAt, holdout: e.holdout, seq: e.seq, arms: e.arms },
            facts: f,
            subjectKey: `${e.subjectType}:${e.subjectId}`,
            timezone: subjectTimezone(row, this.config.defaults.timezone),
            eventsSinceStepStart: row.events,
            now,
          });
          for (const fx of plan.effects) {
            if (fx.kind === 'send' && !templateNames.has(fx.step.template)) throw new Error(`template "${fx.step.template}" not found (step ${fx.step.id})`);
          }
          planned.push({ e, journey: v.journey, facts: row, signals: f.signals, plan });
        } catch (err) {
          failures.push({ e, error: message(err) });
        }
      }
    }

    const recipients = await this.loadRecipients(tx, planned, today).catch((err) => {
      for (const p of planned.splice(0)) failures.push({ e: p.e, error: `reading recipients failed: ${message(err)}` });
      return new Map<string, Map<string, Recipient[]>>();
    });
    const pins = await this.pinTemplates(planned);
    const contexts = await this.renderContexts(planned, recipients, pins, failures);
    const batches = planned.map((p) => this.toApply(p, recipients, contexts, pins, now));
    lap('read');
    try {
      await savepoint(tx, () => this.repo.applyBatch(tx, merge(batches), now, this.enqueue));
      result.advanced += planned.length;
    } catch (err) {
      if (endsClaim(err)) throw err;
      this.log.warn(`batch apply failed, applying one by one: ${message(err)}`);
      for (let i = 0; i < planned.length; i++) {
        try {
          await savepoint(tx, () => this.repo.applyBatch(tx, batches[i], now, this.enqueue));
          result.advanced++;
        } catch (one) {
          if (endsClaim(one)) throw one;
          failures.push({ e: planned[i].e, error: message(one) });
        }
      }
    }
    for (const f of failures) {
      const outcome = await this.fail(tx, f.e, f.error, now);
      if (outcome === 'retry') result.retried++;
      else if (outcome === 'failed') result.failed++;
    }
    lap('apply');
    return result;
  }

  private async fail(tx: Tx, e: ClaimedEnrollment, error: string, now: Date): Promise<'retry' | 'failed' | 'gone'> {
    const attempt = e.attempts + 1;
    const give = attempt >= this.config.engine.maxAttempts;
    const delay = Math.min(this.config.engine.retryBaseMs * 2 ** (attempt - 1), 86_400_000);
    const retryAt = give ? null : new Date(now.getTime() + delay);
    this.log.warn(`enrollment ${e.id} (${e.journeyKey} at ${e.stepId}): ${error}${give ? ' — giving up' : ''}`);
    const ok = await savepoint(tx, () => this.repo.recordFailure(tx, e.id, give ? `failed after ${attempt} attempts: ${error}` : error, retryAt, e.stepId, now)).catch((err) => {
      if (endsClaim(err)) throw err;
      this.log.error(`enrollment ${e.id}: recording its failure failed (it stays due): ${message(err)}`);
      return false;
    });
    return !ok ? 'gone' : give ? 'failed' : 'retry';
  }

  /** Recipients of per-account sends, one query per (version, step) in the batch, in the claim's transaction. */
  private async loadRecipients(tx: Tx, planned: Planned[], today: string): Promise<Map<string, Map<string, Recipient[]>>> {
    const groups = new Map<string, { step: SendStep; journey: Journey; accounts: Set<string> }>();
    for (const p of planned) {
      if (p.journey.subject.type !== 'account') continue;
      for (const fx of p.plan.effects) {
        if (fx.kind !== 'send') continue;
        const k = `${p.e.versionId}\u0000${fx.step.id}`;
        const g = groups.get(k) ?? { step: fx.step, journey: p.journey, accounts: new Set() };
        g.accounts.add(p.e.accountId);
        groups.set(k, g);
      }
    }
    const out = new Map<string, Map<string, Recipient[]>>();
    if (!groups.size) return out;
    // Under a savepoint: a failed read must not abort the claim's transaction.
    return savepoint(tx, async () => {
      for (const [k, g] of groups) {
        const sub = g.journey.subject;
        const roles = g.step.roles ?? (sub.type === 'account' ? sub.recipients.roles : []);
        const where = sub.type === 'account' ? sub.recipients.where : TRUE;
        out.set(k, await this.repo.recipients([...g.accounts], roles, where, today, tx));
      }
      return out;
    });
  }

  /** Who a send effect goes to: the contact itself, or the account's recipients by role. */
  private recipientsOf(p: Planned, step: SendStep, recipients: Map<string, Map<string, Recipient[]>>): Recipient[] {
    const { e, journey, facts } = p;
    const to: Recipient[] =
      journey.subject.type === 'account'
        ? (recipients.get(`${e.versionId}\u0000${step.id}`)?.get(e.accountId) ?? [])
        : facts.contact
          ? [{ accountId: e.accountId, contactId: e.contactId!, email: facts.contact.email, name: facts.contact.name, locale: facts.contact.locale, role: facts.memberRole ?? facts.contact.role }]
          : [];
    return to.filter((r) => isEmailAddress(r.email));
  }

  /** The current version of each template the batch sends, pinned by its messages (an Error: sent unpinned, see TemplateCatalog.pin). */
  private async pinTemplates(planned: Planned[]): Promise<Map<string, PinnedTemplate | Error>> {
    const names = new Set<string>();
    for (const p of planned) for (const fx of p.plan.effects) if (fx.kind === 'send') names.add(fx.step.template);
    const out = new Map<string, PinnedTemplate | Error>();
    for (const name of names) out.set(name, await this.templates.pin(name));
    return out;
  }

  /**
   * The render context of every recipient of the batch's (treated) sends, built by the
   * templates capability for the whole batch at once, holding what the pinned template version
   * reads (the whole standard context for an unpinned one). An enrollment whose context cannot be
   * built fails this attempt (and is retried) instead of sending a message nobody can render.
   */
  private async renderContexts(
    planned: Planned[],
    recipients: Map<string, Map<string, Recipient[]>>,
    pins: Map<string, PinnedTemplate | Error>,
    failures: { e: ClaimedEnrollment; error: string }[],
  ): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    const owners = new Map<string, Planned[]>();
    const sends = new Map<string, { key: string; contactId: string; accountId: string; needs: ContextNeeds }>();
    for (const p of planned) {
      for (const fx of p.plan.effects) {
        if (fx.kind !== 'send' || fx.holdout) continue;
        const pin = pinOf(pins, fx.step.template);
        for (const r of this.recipientsOf(p, fx.step, recipients)) {
          const k = contextKey(r, fx.step.template);
          const list = owners.get(k);
          if (list) list.push(p);
          else owners.set(k, [p]);
          sends.set(k, { key: k, contactId: r.contactId, accountId: r.accountId, needs: pin?.needs ?? ALL_CONTEXT });
        }
      }
    }
    const bad = new Set<Planned>();
    const fail = (k: string, error: string) => {
      for (const p of owners.get(k)!) {
        if (!bad.has(p)) failures.push({ e: p.e, error });
        bad.add(p);
      }
    };
    try {
      const built = await this.contexts.forSends([...sends.values()]);
      for (const k of owners.keys()) {
        const c = built.get(k);
        if (c instanceof Error || c === undefined) fail(k, `render context of contact ${k.split(':')[0]}: ${c ? c.message : 'not built'}`);
        else out.set(k, c);
      }
    } catch (err) {
      for (const k of owners.keys()) fail(k, `render contexts: ${message(err)}`);
    }
    if (bad.size) planned.splice(0, planned.length, ...planned.filter((p) => !bad.has(p)));
    return out;
  }

  private toApply(p: Planned, recipients: Map<string, Map<string, Recipient[]>>, contexts: Map<string, unknown>, pins: Map<string, PinnedTemplate | Error>, now: Date): ApplyBatch {
    const { e, journey, facts, plan } = p;
    const b: ApplyBatch = { enrollments: [], messages: [], handoffs: [], updates: [], history: [] };
    // Rows straight from the plan's history (and no-recipient outcomes below, after it, in order).
    const history = b.history;
    for (const h of plan.history) history.push({ enrollment_id: e.id, step_id: h.stepId, outcome: h.outcome, reason: h.reason });
    for (const fx of plan.effects) {
      if (fx.kind === 'send') {
        const sendable = this.recipientsOf(p, fx.step, recipients);
        const pin = pinOf(pins, fx.step.template);
        if (!sendable.length) history.push({ enrollment_id: e.id, step_id: fx.step.id, outcome: 'no_recipient', reason: `no recipient with a valid email address for ${fx.step.template}` });
        for (const r of sendable) {
          b.messages.push({
            enrollmentId: e.id,
            seq: fx.seq,
            stepId: fx.step.id,
            contactId: r.contactId,
            accountId: e.accountId,
            toEmail: r.email!,
            journeyKey: journey.key,
            journeyVersionId: e.versionId,
            template: fx.step.template,
            // The version the context was built for (null: the current one at send time, with the whole context).
            templateVersion: pin?.version ?? null,
            locale: r.locale ?? facts.account?.locale ?? journey.locale ?? this.config.defaults.locale,
            category: fx.step.category,
            priority: journey.priority,
            // Held-out sends are never rendered: no context is built for them.
            context: fx.holdout ? {} : copyWith(contexts.get(contextKey(r, fx.step.template)) as object, { journey: { key: journey.key, name: journey.name } }),
            subject: fx.step.subject ?? null,
            holdout: fx.holdout,
            reason: fx.holdout ? 'holdout: control group of the journey' : null,
            scheduledAt: now,
          });
        }
      } else if (fx.kind === 'handoff') {
        b.handoffs.push({
          idempotency_key: `enrollment:${e.id}:${fx.seq}:${fx.step.id}`,
          account_id: e.accountId,
          contact_id: e.contactId,
          enrollment_id: e.id,
          journey_key: journey.key,
          step_id: fx.step.id,
          reason: fx.reason,
          signals: { signals: p.signals, health: facts.health, account: { phase: facts.account?.phase ?? null, plan: facts.account?.plan ?? null, mrr: facts.account?.mrr ?? null } },
          assignee: facts.account?.csm_owner ?? null,
          // The step's own webhook, else the owning CSM's (team.yaml), else HANDOFF_WEBHOOK_URL.
          webhook_url: fx.step.webhook ?? (facts.account?.csm_owner ? this.contexts.csmWebhook(facts.account.csm_owner) : undefined) ?? this.config.engine.handoffWebhookUrl ?? null,
        });
      } else {
        b.updates.push({ accountId: e.accountId, contactId: e.contactId, phase: fx.step.phase, accountTraits: fx.step.accountTraits, contactTraits: fx.step.contactTraits });
      }
    }
    b.enrollments.push({
      id: e.id,
      status: plan.status,
      step_id: plan.stepId,
      step_started_at: isoTime(plan.stepStartedAt),
      seq: plan.seq,
      due_at: plan.dueAt ? isoTime(plan.dueAt) : null,
      arms: plan.arms,
      end_reason: plan.endReason ?? null,
    });
    return b;
  }
}

function merge(batches: ApplyBatch[]): ApplyBatch {
  const out: ApplyBatch = { enrollments: [], messages: [], handoffs: [], updates: [], history: [] };
  for (const b of batches) {
    for (const x of b.enrollments) out.enrollments.push(x);
    for (const x of b.messages) out.messages.push(x);
    for (const x of b.handoffs) out.handoffs.push(x);
    for (const x of b.updates) out.updates.push(x);
    for (const x of b.history) out.history.push(x);
  }
  return out;
}

/** A template's pin, unless it could not be pinned (its messages go unpinned with the whole context). */
function pinOf(pins: Map<string, PinnedTemplate | Error>, template: string): PinnedTemplate | undefined {
  const pin = pins.get(template);
  return pin instanceof Error ? undefined : pin;
}

/** A recipient's render context for one template (contexts differ by what the template reads). */
function contextKey(r: Recipient, template: string): string {
  return `${r.contactId}:${r.accountId}:${template}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
