import { Inject, Injectable, Logger } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { Clock } from '../common/clock';
import { DomainError, InvalidInput, Problem } from '../common/errors';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { BouncesRepository } from './bounces.repository';
import { EngagementRepository } from './engagement.repository';
import { SendingHealthService } from './sending-health.service';
import { SuppressionsRepository } from './suppressions.repository';
import { BounceEvent, parseOrThrow, WebhookResult } from './webhooks/bounce-event';
import { genericBody, parseGeneric } from './webhooks/generic';
import { basicAuthMatches, parsePostmark } from './webhooks/postmark';
import { parseSendgrid, sendgridBody, sendgridKey, verifySendgrid } from './webhooks/sendgrid';
import { parseSesMessage } from './webhooks/ses';
import { isSnsUrl, SnsHttp, snsEnvelopeSchema, verifySnsSignature } from './webhooks/sns';

const KIND = { hard_bounce: 'bounce', soft_bounce: 'soft_bounce', complaint: 'complaint', delivered: 'delivered' } as const;

/**
 * Bounce, complaint and delivery reports from the providers: verify the sender, validate
 * the payload, record each event once, and apply its effect — hard bounces and complaints
 * suppress the address for all mail, soft bounces do when they reach the threshold in the
 * window, complaints re-check the sending-health guard.
 */
@Injectable()
export class BouncesService {
  private readonly logger = new Logger('Bounces');
  private sendgridPublicKey?: KeyObject;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly repo: BouncesRepository,
    private readonly engagement: EngagementRepository,
    private readonly suppressions: SuppressionsRepository,
    private readonly health: SendingHealthService,
    private readonly sns: SnsHttp,
  ) {}

  async ses(body: unknown): Promise<WebhookResult & { confirmed?: boolean }> {
    const envelope = parseOrThrow(snsEnvelopeSchema, body, 'the SNS message');
    if (!isSnsUrl(envelope.SigningCertURL)) {
      throw new DomainError('forbidden', 'SigningCertURL must be an https URL on sns.<region>.amazonaws.com', [{ path: 'SigningCertURL', message: 'not an Amazon SNS host' }]);
    }
    const topics = this.config.tracking.ses.topicArns;
    if (topics.length && !topics.includes(envelope.TopicArn)) {
      throw new DomainError('forbidden', 'this SNS topic is not accepted (SES_SNS_TOPIC_ARNS)', [{ path: 'TopicArn', message: 'not a configured topic' }]);
    }
    let pem: string;
    try {
      pem = await this.sns.fetchCertificate(envelope.SigningCertURL);
    } catch (err) {
      // Answered with a 5xx-free refusal; SNS retries the delivery later.
      throw new DomainError('unavailable', `could not fetch the SNS signing certificate: ${(err as Error).message}`);
    }
    if (!verifySnsSignature(envelope, pem, this.clock.now())) throw new DomainError('forbidden', 'the SNS signature does not verify', [{ path: 'Signature', message: 'bad signature' }]);
    const empty = this.empty(1);
    if (envelope.Type === 'SubscriptionConfirmation') {
      if (!isSnsUrl(envelope.SubscribeURL)) throw new InvalidInput('SubscribeURL must be on sns.<region>.amazonaws.com', [{ path: 'SubscribeURL', message: 'not an Amazon SNS URL' }]);
      await this.sns.confirmSubscription(envelope.SubscribeURL!);
      this.logger.log(`confirmed the SNS subscription to ${envelope.TopicArn}`);
      return { ...empty, ignored: 1, confirmed: true };
    }
    if (envelope.Type === 'UnsubscribeConfirmation') return { ...empty, ignored: 1 };
    const { events, ignored } = parseSesMessage(envelope.Message, envelope.MessageId, this.clock.now());
    return this.record(events, { received: 1, ignored, rejected: [] });
  }

  async sendgrid(body: unknown, rawBody: Buffer | undefined, signature: string | undefined, timestamp: string | undefined): Promise<WebhookResult> {
    const configured = this.config.tracking.sendgrid.publicKey;
    if (!configured) throw new DomainError('forbidden', 'the SendGrid webhook is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY)');
    this.sendgridPublicKey ??= sendgridKey(configured);
    if (!rawBody || !verifySendgrid(this.sendgridPublicKey, signature, timestamp, rawBody)) {
      throw new DomainError('forbidden', 'the SendGrid signature does not verify', [{ path: 'X-Twilio-Email-Event-Webhook-Signature', message: 'bad or missing signature' }]);
    }
    const items = parseOrThrow(sendgridBody, body, 'the SendGrid event batch');
    const { events, ignored, rejected } = parseSendgrid(items, this.clock.now());
    if (!events.length && !ignored && rejected.length) throw new InvalidInput('no valid SendGrid event in the batch', rejected);
    return this.record(events, { received: items.length, ignored, rejected });
  }

  async postmark(body: unknown, authorization: string | undefined, rawBody?: Buffer): Promise<WebhookResult> {
    const { user, password } = this.config.tracking.postmark;
    if (!user || !password) throw new DomainError('forbidden', 'the Postmark webhook is not configured (POSTMARK_WEBHOOK_USER, POSTMARK_WEBHOOK_PASSWORD)');
    if (!basicAuthMatches(authorization, user, password)) throw new DomainError('unauthorized', 'the Postmark webhook credentials are wrong or missing');
    const { events, ignored } = parsePostmark(body, this.clock.now(), rawBody);
    return this.record(events, { received: 1, ignored, rejected: [] });
  }

  async generic(body: unknown): Promise<WebhookResult> {
    const { events: items } = parseOrThrow(genericBody, body, 'the event batch');
    const { events, rejected } = parseGeneric(items, this.clock.now());
    if (!events.length) throw new InvalidInput('no valid event in the batch', rejected);
    return this.record(events, { received: items.length, ignored: 0, rejected });
  }

  /** Records each event once (by provider event id) and applies its effect. */
  async record(events: BounceEvent[], base: { received: number; ignored: number; rejected: Problem[] }): Promise<WebhookResult> {
    const result: WebhookResult = { ...this.empty(base.received), ignored: base.ignored, rejected: base.rejected };
    let complained = false;
    for (const e of events) {
      const matched = await this.repo.match(e.email, e.touchlineMessageId, e.messageIdHeader, e.occurredAt);
      const who = matched ?? (await this.repo.contactByEmail(e.email));
      if (!matched) result.unmatched++;
      const inserted = await this.engagement.insert([
        {
          messageId: matched?.id ?? null,
          contactId: who?.contactId ?? null,
          accountId: who?.accountId ?? null,
          kind: KIND[e.type],
          machine: false,
          classification: e.provider,
          email: e.email,
          externalId: e.externalId,
          data: { ...e.detail, provider: e.provider, matchedBy: matched?.how ?? null },
          occurredAt: e.occurredAt,
        },
      ]);
      if (!inserted) {
        result.duplicates++;
        continue;
      }
      result.recorded++;
      const suppressedBy = await this.effect(e, matched?.id ?? null);
      if (suppressedBy) result.suppressed.push(e.email);
      if (e.type === 'complaint') complained = true;
    }
    if (complained) await this.health.check();
    return result;
  }

  private async effect(e: BounceEvent, messageId: string | null): Promise<boolean> {
    const now = this.clock.now();
    if (e.type === 'hard_bounce' || e.type === 'complaint') {
      await this.suppressions.suppress(e.email, 'all', e.type, e.provider, messageId, now);
      return true;
    }
    if (e.type === 'soft_bounce') {
      const { softBounceThreshold, softBounceWindowDays } = this.config.tracking;
      const since = new Date(now.getTime() - softBounceWindowDays * 86_400_000);
      if ((await this.repo.softBounces(e.email, since)) >= softBounceThreshold) {
        await this.suppressions.suppress(e.email, 'all', 'soft_bounces', e.provider, messageId, now);
        return true;
      }
    }
    return false;
  }

  private empty(received: number): WebhookResult {
    return { received, recorded: 0, duplicates: 0, ignored: 0, unmatched: 0, suppressed: [], rejected: [] };
  }
}
