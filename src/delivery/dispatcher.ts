import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { Clock } from '../common/clock';
import { CONFIG } from '../config/config.module';
import type { Config } from '../config/config';
import { longestWindow } from '../delivery/caps';
import { BatchFeed } from './batch-feed';
import { deliveryOutcomes } from './delivery.metrics';
import { ClaimedMessage, DispatchRepository, GateDecisionRow } from './dispatch.repository';
import { Candidate, decide } from './gate';
import { buildHeaders, messageIdFor, unsubscribeToken, unsubscribeUrl } from './headers';
import { ComposedMail, MailTransport, OutgoingMail } from './mail-transport';
import { MessageRenderer, RenderedEmail } from './message-renderer';
import { blank, OutcomeWriter, released } from './outcome-writer';
import { RateLimiter, Slot } from './rate-limiter';
import { resolveTimeZone } from './send-window';
import { classifySendError, retryDelay, SendFailure } from './smtp-errors';

export interface TickResult {
  /** Why nothing was claimed, when nothing was. */
  paused?: string;
  recovered: number;
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  other: number;
}

/**
 * One dispatcher: claims due outbox messages in batches (FOR UPDATE SKIP LOCKED, leased to
 * this instance), gates them (suppression, quiet hours, caps), renders, sends under the
 * global rate limit and records each outcome. Any number may run at once, in any number of
 * processes; they share nothing but the database. `tick()` is one round; the worker loop
 * (DeliveryWorker) repeats it, tests call it directly with a VirtualClock.
 */
@Injectable()
export class Dispatcher {
  private readonly log = new Logger('Delivery');
  readonly worker = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly repo: DispatchRepository,
    private readonly limiter: RateLimiter,
    private readonly transport: MailTransport,
    private readonly renderer: MessageRenderer,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /**
   * One round: recovery, pauses, a claimed batch sent; while it is sending, the next batch is
   * claimed (pipelined: the SMTP connections never wait for a claim) as long as the last one
   * was full, nothing is paused, the provider answers and `more()` agrees (the worker loop
   * says no once the service is stopping).
   */
  async tick(options: { more?: () => boolean } = {}): Promise<TickResult> {
    const result: TickResult = { recovered: 0, claimed: 0, sent: 0, retried: 0, failed: 0, other: 0 };
    const first = await this.nextBatch(result, true);
    if ('paused' in first) return { ...result, paused: first.paused };
    if (first.rows.length) await this.send(first.rows, first.rows.length >= this.batchSize(), result, options.more ?? (() => true));
    return result;
  }

  /**
   * Lease recovery (at the start of a round only: later in the round it would take back this
   * dispatcher's own claimed rows still waiting their turn), pauses, then a claimed (and gated) batch.
   */
  private async nextBatch(result: TickResult, recover: boolean): Promise<{ rows: ClaimedMessage[] } | { paused: string }> {
    const d = this.config.delivery;
    const recovered = recover ? await this.repo.recoverExpired(this.clock.now(), d.ambiguous) : { requeued: 0, ambiguous: 0 };
    result.recovered += recovered.requeued + recovered.ambiguous;
    if (recovered.ambiguous) this.log.warn(`${recovered.ambiguous} message(s) found in sending after their lease, possibly accepted: ${d.ambiguous === 'retry' ? 'sending again' : 'held for review'}`);

    const pauses = await this.repo.pauses();
    const all = pauses.find((p) => p.kind === 'all');
    if (all && !(all.reason === 'provider_outage' && (await this.outageOver(all.details)))) return { paused: `all mail: ${all.reason}` };
    const categories = pauses.some((p) => p.kind === 'marketing') ? ['operational'] : ['marketing', 'operational'];
    return { rows: await this.claim(categories, result) };
  }

  /** An outage pause ends when its time is up and the provider answers again. */
  private async outageOver(details: Record<string, unknown>): Promise<boolean> {
    const until = Date.parse(String(details.until ?? ''));
    const now = this.clock.now();
    if (Number.isFinite(until) && until > now.getTime()) return false;
    try {
      await this.transport.verify();
      await this.repo.endOutage();
      this.log.log('mail provider reachable again: sending resumes');
      return true;
    } catch (err) {
      const wait = Math.min(Number(details.waitMs ?? this.config.delivery.outagePauseMs) * 2, 15 * 60_000);
      await this.repo.pauseForOutage(now, new Date(now.getTime() + wait), (err as Error).message);
      return false;
    }
  }

  private batchSize(): number {
    const d = this.config.delivery;
    if (d.ratePerSecond <= 0) return d.batchSize;
    // A batch must be sendable well within its lease at the global rate.
    return Math.max(1, Math.min(d.batchSize, Math.floor((d.ratePerSecond * d.leaseMs) / 1000 / 2)));
  }

  private async claim(categories: string[], result: TickResult): Promise<ClaimedMessage[]> {
    const d = this.config.delivery;
    const key = this.config.secrets.trackingKeys[0].secret;
    return this.repo.transaction(async (tx) => {
      const now = this.clock.now();
      const rows = await this.repo.lockDue(tx, now, this.batchSize(), categories);
      result.claimed += rows.length;
      if (!rows.length) return [];
      const marketing = rows.filter((r) => r.category === 'marketing');
      const contactIds = [...new Set(marketing.map((r) => r.contact_id))];
      const accountIds = d.caps.some((c) => c.scope === 'account') ? [...new Set(marketing.map((r) => r.account_id).filter((a): a is string => a !== null))] : [];
      const contactSends = new Map<string, number[]>();
      const accountSends = new Map<string, number[]>();
      let competitors: Array<{ id: string; contactId: string; accountId: string | null; priority: number }> = [];
      if (d.caps.length && marketing.length) {
        const ids = rows.map((r) => r.id);
        await this.repo.lockCapKeys(tx, contactIds, accountIds);
        const since = new Date(now.getTime() - longestWindow(d.caps));
        for (const h of await this.repo.capHistory(tx, now, since, contactIds, accountIds, ids)) {
          const t = new Date(h.at).getTime();
          push(contactSends, h.contact_id, t);
          if (h.account_id !== null && accountIds.includes(h.account_id)) push(accountSends, h.account_id, t);
        }
        const lowest = Math.min(...marketing.map((r) => r.priority));
        competitors = (await this.repo.competitors(tx, now, contactIds, accountIds, ids, lowest)).map((c) => ({ id: c.id, contactId: c.contact_id, accountId: c.account_id, priority: c.priority }));
      }
      const candidates: Candidate[] = rows.map((r) => ({
        id: r.id,
        contactId: r.contact_id,
        accountId: r.account_id,
        category: r.category,
        priority: r.priority,
        createdAt: new Date(r.created_at).getTime(),
        expiresAt: r.expires_at ? new Date(r.expires_at).getTime() : null,
        scheduledAt: new Date(r.scheduled_at).getTime(),
        suppression: r.suppression_scope ? { scope: r.suppression_scope, reason: r.suppression_reason ?? 'suppressed' } : null,
        consentMarketing: r.consent_marketing,
        timezone: resolveTimeZone(r.contact_tz, r.account_tz, this.config.defaults.timezone),
      }));
      const decisions = decide(candidates, { window: d.sendWindow, windowForOperational: d.windowForOperational, caps: d.caps, capTtlMs: d.capTtlMs }, { now: now.getTime(), contactSends, accountSends, competitors });
      const rowsToApply: GateDecisionRow[] = decisions.map((x) => ({
        id: x.id,
        status: x.action === 'send' ? 'sending' : x.action === 'suppress' ? 'suppressed' : x.action === 'defer' ? 'deferred' : 'capped',
        reason: x.action === 'send' ? null : x.reason,
        until: x.action === 'defer' ? new Date(x.until) : null,
        messageIdHeader: x.action === 'send' ? messageIdFor(x.id, d.messageIdDomain, key) : null,
      }));
      for (const x of decisions) if (x.action !== 'send') deliveryOutcomes.inc({ outcome: x.action === 'suppress' ? 'suppressed' : x.action === 'defer' ? 'deferred' : 'capped' });
      result.other += decisions.filter((x) => x.action !== 'send').length;
      return this.repo.applyDecisions(tx, now, new Date(now.getTime() + d.leaseMs), this.worker, rowsToApply);
    });
  }

  /**
   * Renders and sends claimed messages: `concurrency` in flight, each at its rate slot. When
   * the batch in hand runs low (and it was full), the next one is claimed meanwhile and its
   * messages follow on without a pause.
   */
  private async send(claimed: ClaimedMessage[], full: boolean, result: TickResult, more: () => boolean): Promise<void> {
    const d = this.config.delivery;
    const writer = new OutcomeWriter(this.repo, this.clock, this.worker, d.leaseMs);
    const inFlight = new Set<Promise<void>>();
    let room: (() => void) | null = null; // the send loop, waiting for a send to leave inFlight
    const wakeRoom = () => {
      const wake = room;
      room = null;
      wake?.();
    };
    let pausing: Promise<void> = Promise.resolve();
    const state: { outage: SendFailure | null } = { outage: null };
    // Over SMTP, no more in flight than pooled connections: a send nodemailer queued inside the
    // pool would leave later, outside its rate slot.
    const group = Math.max(1, this.transport.kind === 'smtp' ? Math.min(d.concurrency, this.config.smtp.pool.maxConnections) : d.concurrency);
    const feed = new BatchFeed(claimed, full, group, Math.max(2 * group, Math.ceil(this.batchSize() / 2)), async () => {
      if (state.outage || !more()) return null;
      const next = await this.nextBatch(result, false);
      return 'paused' in next ? null : { rows: next.rows, full: next.rows.length >= this.batchSize() };
    }, (err) => this.log.error(`claiming the next batch failed (this round ends with the batch in hand): ${err.message}`));
    const releaseAll = (list: Array<{ m: ClaimedMessage }>, outage: SendFailure) => {
      for (const { m } of list) writer.push(released(m.id, `not attempted: the mail provider is unreachable (${outage.response})`));
    };
    // The next group is rendered while this one is sending. A failure to mark a group (database
    // down) surfaces when it is awaited; until then it must not count as an unhandled
    // rejection, which would end the process with sends in flight.
    const renderNext = (afterIo = false): Promise<Rendered[] | null> => {
      const p = (async () => {
        // afterIo: a statement just issued goes out first (the driver writes it on a later tick).
        if (afterIo) await new Promise((resolve) => setImmediate(resolve));
        if (state.outage) return null;
        const slice = await feed.take();
        return slice ? this.renderGroup(slice, writer, result) : null;
      })();
      p.catch(() => undefined);
      return p;
    };
    let next = renderNext();
    // The sends of the group before the one on the wire, and of the one on the wire.
    let before: Promise<void>[] = [];
    let onWire: Promise<void>[] = [];
    for (;;) {
      let ready: Prepared[] | null;
      try {
        const rendered = await next;
        if (!rendered) break;
        // The crash window (README): offered-but-unrecorded messages are at most two groups.
        // So a group is marked only once the sends before the one on the wire are done, in the
        // same statement that records their outcomes (one round trip per group).
        await Promise.all(before);
        const marking = this.mark(rendered, writer);
        // The group after it is rendered while the statement is on its way (work for the time
        // the process would otherwise wait on the commit).
        next = renderNext(true);
        ready = await marking;
      } catch (err) {
        // Let the sends in flight finish and their outcomes be recorded before giving up the
        // round; the unmarked rest stays leased and comes back as `queued`.
        await Promise.allSettled(inFlight);
        await writer.flush();
        await pausing;
        throw err;
      }
      const current: Promise<void>[] = [];
      for (let i = 0; i < ready.length; i++) {
        while (inFlight.size >= group) await new Promise<void>((resolve) => (room = resolve));
        const early = state.outage as SendFailure | null; // set by a send callback meanwhile
        if (early) {
          releaseAll(ready.slice(i), early);
          break;
        }
        const { m, mail, email, slot } = ready[i];
        // Each send waits for its rate slot (reserved with its group, or a fresh one if that
        // one has passed while the connections were busy) and starts the moment it comes.
        const p = this.limiter
          .acquire(slot)
          .then(() => {
            const outage = state.outage as SendFailure | null;
            if (outage) return releaseAll([ready[i]], outage);
            return this.transport.send(mail).then(
              (receipt) => {
                writer.push({ ...blank(m.id, 'accepted'), smtpResponse: receipt.response, templateVersion: email.templateVersion, subject: email.subject });
                result.sent++;
                deliveryOutcomes.inc({ outcome: 'sent' });
              },
              (err: unknown) => {
                const failure = classifySendError(err);
                if (failure.kind === 'outage' && !state.outage) {
                  state.outage = failure;
                  pausing = this.startOutage(failure);
                }
                this.recordFailure(writer, m, email, failure, result);
              },
            );
          })
          .finally(() => (inFlight.delete(p), wakeRoom()));
        inFlight.add(p);
        current.push(p);
      }
      before = onWire;
      onWire = current;
    }
    await Promise.all(inFlight);
    // Claimed but never prepared (an outage stopped the round): back to the queue untouched.
    const leftover = await feed.rest();
    const outage = state.outage as SendFailure | null;
    if (outage) releaseAll(leftover.map((m) => ({ m })), outage);
    await writer.flush();
    await pausing;
  }

  /** Renders a group (render failures go to `review`). */
  private async renderGroup(slice: ClaimedMessage[], writer: OutcomeWriter, result: TickResult): Promise<Rendered[]> {
    const rendered = await Promise.all(slice.map((m) => this.render(m)));
    const ready: Rendered[] = [];
    rendered.forEach((r, i) => {
      if ('error' in r) {
        writer.push({ ...blank(slice[i].id, 'render_failed'), reason: `render failed: ${r.error}`, error: r.error });
        result.other++;
      } else ready.push({ m: slice[i], ...r });
    });
    return ready;
  }

  /**
   * Records that a rendered group is about to be offered to SMTP (renewing the lease), in the
   * statement that writes the outcomes gathered so far; its rate slots are reserved meanwhile.
   */
  private async mark(group: Rendered[], writer: OutcomeWriter): Promise<Prepared[]> {
    if (!group.length) return [];
    const now = this.clock.now();
    const [held, slots] = await Promise.all([writer.recordAndMark(group.map((r) => r.m.id), new Date(now.getTime() + this.config.delivery.leaseMs)), this.limiter.reserve(group.length)]);
    // Any other was taken back by lease recovery (this dispatcher stalled): not ours to send.
    return group.filter((r) => held.has(r.m.id)).map((r, i) => ({ ...r, slot: slots[i] }));
  }

  private async startOutage(failure: SendFailure): Promise<void> {
    const now = this.clock.now();
    this.log.error(`mail provider unreachable (${failure.response}): pausing all sending for ${this.config.delivery.outagePauseMs} ms; nothing is lost`);
    await this.repo.pauseForOutage(now, new Date(now.getTime() + this.config.delivery.outagePauseMs), failure.response).catch((err) => this.log.error(`could not record the outage pause: ${(err as Error).message}`));
  }

  private recordFailure(writer: OutcomeWriter, m: ClaimedMessage, email: RenderedEmail, f: SendFailure, result: TickResult): void {
    const d = this.config.delivery;
    const now = this.clock.now();
    const base = { ...blank(m.id, 'temporary_failure'), error: f.response, smtpResponse: f.code ? f.response : null, templateVersion: email.templateVersion, subject: email.subject };
    if (f.kind === 'outage') {
      writer.push({ ...base, event: 'released', reason: `mail provider unreachable: ${f.response}; kept for when it is back` });
      result.retried++;
      deliveryOutcomes.inc({ outcome: 'outage' });
      return;
    }
    if (f.kind === 'temporary') {
      const firstAt = new Date(m.first_attempt_at).getTime();
      if (now.getTime() - firstAt >= d.retryForMs) {
        writer.push({ ...base, event: 'retries_exhausted', reason: `temporary failures for ${Math.round((now.getTime() - firstAt) / 3_600_000)} h over ${m.attempts} attempts; last: ${f.response}` });
        result.failed++;
        deliveryOutcomes.inc({ outcome: 'failed' });
        return;
      }
      const next = new Date(now.getTime() + retryDelay(m.attempts, d.retryBaseMs, d.retryMaxMs));
      writer.push({ ...base, reason: `temporary failure (attempt ${m.attempts}), retrying at ${next.toISOString()}`, next });
      result.retried++;
      deliveryOutcomes.inc({ outcome: 'retry' });
      return;
    }
    result.failed++;
    if (f.kind === 'permanent') {
      writer.push({ ...base, event: 'permanent_failure', reason: `hard bounce: ${f.response}; address suppressed` }, { id: m.id, response: f.response, code: f.code, status: f.status });
      deliveryOutcomes.inc({ outcome: 'bounced' });
    } else if (f.kind === 'policy') {
      // The address is fine; our mail was refused (reputation, DMARC, content policy). Report it.
      this.log.warn(`policy rejection for message ${m.id} (${f.status ?? f.code}): ${f.response}`);
      writer.push({ ...base, event: 'permanent_failure', reason: `policy rejection (reported, address not suppressed): ${f.response}` });
      deliveryOutcomes.inc({ outcome: 'policy_rejected' });
    } else {
      writer.push({ ...base, event: 'permanent_failure', reason: `rejected: ${f.response}` });
      deliveryOutcomes.inc({ outcome: 'rejected' });
    }
  }

  private async render(m: ClaimedMessage): Promise<{ mail: OutgoingMail | ComposedMail; email: RenderedEmail } | { error: string }> {
    const { config } = this;
    const token = unsubscribeToken(config.secrets.trackingKeys, m.id, m.contact_id);
    const url = unsubscribeUrl(config.publicUrl, token);
    try {
      const email = await this.renderer.render(
        { id: m.id, contactId: m.contact_id, accountId: m.account_id, toEmail: m.to_email, template: m.template, templateVersion: m.template_version, locale: m.locale, category: m.category, context: m.context ?? {} },
        { unsubscribeUrl: url },
      );
      const headers = buildHeaders({ id: m.id, category: m.category, unsubscribeUrl: url, unsubscribeMailto: config.delivery.unsubscribeMailto, token });
      const mail: OutgoingMail = {
        id: m.id,
        from: `"${config.sender.name.replace(/["\\]/g, '')}" <${config.sender.email}>`,
        to: m.to_email,
        envelopeFrom: config.delivery.bounceAddress,
        subject: email.subject,
        html: email.html,
        text: email.text,
        messageId: m.message_id_header,
        headers: headers as Record<string, string>,
      };
      return { mail: this.composeAhead(mail), email };
    } catch (err) {
      return { error: (err as Error).message ?? String(err) };
    }
  }

  /** Composed now, off the send's path; one that fails to compose is composed again at its send and fails there, as a send. */
  private composeAhead(mail: OutgoingMail): OutgoingMail | ComposedMail {
    try {
      return this.transport.compose(mail);
    } catch {
      return mail;
    }
  }
}

interface Rendered {
  m: ClaimedMessage;
  mail: OutgoingMail | ComposedMail;
  email: RenderedEmail;
}

interface Prepared extends Rendered {
  /** Its rate slot (none when the rate is unlimited). */
  slot?: Slot;
}

function push(map: Map<string, number[]>, key: string, t: number) {
  const list = map.get(key);
  if (list) list.push(t);
  else map.set(key, [t]);
}

