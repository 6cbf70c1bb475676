import { Inject, Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { Clock } from '../common/clock';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { classify } from './classify';
import { EngagementRepository, MessageMeta } from './engagement.repository';
import { SURVEY_RANGES } from './link-builder';
import { badLinkPage, emptyPage, PageLocale, pageLocale, PreferenceChoice, preferencesPage, surveyThanksPage, tooManyPage } from './pages';
import { IpHasher, trimUserAgent } from './privacy';
import { RateLimiter } from './rate-limit';
import { SuppressionsRepository } from './suppressions.repository';
import { TokenPayload, verifyToken } from './tokens';

/** The request facts tracking uses; the controller extracts them from HTTP. */
export interface HitRequest {
  token: string;
  method: string;
  ip: string | undefined;
  userAgent: string | undefined;
  acceptLanguage?: string;
  /** Origin / Sec-Fetch-Site of a form post (CSRF check). */
  origin?: string;
  fetchSite?: string;
}

export type TrackingResponse =
  | { status: number; type: 'html'; body: string; retryAfter?: number }
  | { status: 200; type: 'gif' }
  | { status: 302; type: 'redirect'; location: string }
  | { status: number; type: 'text'; body: string; retryAfter?: number };

const preferenceForm = z.object({ csrf: z.string().min(1), choice: z.enum(['all', 'marketing_off', 'all_off']) });
const commentForm = z.object({ csrf: z.string().min(1), comment: z.string().max(2000, 'at most 2000 characters').default('') });

const META_CACHE_SIZE = 50_000;

/**
 * Opens, clicks, the preference page and survey answers. Every token is verified before
 * anything else (a forged or altered token is answered with a 4xx page and never touches
 * the database); the message must exist and belong to the token's recipient.
 */
@Injectable()
export class TrackingService {
  private readonly hitLimiter: RateLimiter;
  private readonly pageLimiter: RateLimiter;
  /** Message facts do not change once sent; caching them (LRU, bounded) keeps a hit to its one INSERT. */
  private readonly metaCache = new Map<string, MessageMeta>();
  private readonly publicOrigin: string;
  private readonly ips: IpHasher;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly engagement: EngagementRepository,
    private readonly suppressions: SuppressionsRepository,
  ) {
    this.hitLimiter = new RateLimiter(config.tracking.ratePerMinute);
    this.pageLimiter = new RateLimiter(config.tracking.pageRatePerMinute);
    this.publicOrigin = new URL(config.publicUrl).origin;
    this.ips = new IpHasher(config.tracking.ipHashKey);
  }

  async open(req: HitRequest): Promise<TrackingResponse> {
    const v = this.verify(req, 'o', this.hitLimiter);
    if ('response' in v) return v.response;
    const meta = await this.meta(v.payload);
    if (!meta) return this.badLink(req, 404);
    const at = this.clock.now();
    const verdict = classify({ kind: 'open', method: req.method, userAgent: req.userAgent, ip: req.ip, sentAt: meta.sentAt, at }, this.config.tracking);
    await this.engagement.recordHit({ messageId: meta.id, contactId: meta.contactId, accountId: meta.accountId, kind: 'open', ...verdict, userAgent: trimUserAgent(req.userAgent), ipHash: v.ipHash, occurredAt: at });
    return { status: 200, type: 'gif' };
  }

  async click(req: HitRequest): Promise<TrackingResponse> {
    const v = this.verify(req, 'c', this.hitLimiter);
    if ('response' in v) return v.response;
    const target = safeTarget(v.payload.u);
    if (!target) return this.badLink(req, 400);
    const meta = await this.meta(v.payload);
    if (!meta) return this.badLink(req, 404);
    const at = this.clock.now();
    const honeypot = v.payload.h === 1;
    const verdict = classify({ kind: 'click', method: req.method, userAgent: req.userAgent, ip: req.ip, sentAt: meta.sentAt, at, honeypot }, this.config.tracking);
    const data = v.payload.l ? { label: v.payload.l } : {};
    await this.engagement.recordHit({ messageId: meta.id, contactId: meta.contactId, accountId: meta.accountId, kind: 'click', ...verdict, url: target, userAgent: trimUserAgent(req.userAgent), ipHash: v.ipHash, data, occurredAt: at });
    if (honeypot) {
      // The scanner that found the hidden link also followed the visible ones just before.
      if (v.ipHash) await this.engagement.flagHoneypotPeers(meta.id, v.ipHash, new Date(at.getTime() - 5 * 60_000));
      return { status: 200, type: 'html', body: emptyPage() };
    }
    return { status: 302, type: 'redirect', location: target };
  }

  async preferences(req: HitRequest, form?: unknown): Promise<TrackingResponse> {
    const v = this.verify(req, 'p', this.pageLimiter);
    if ('response' in v) return v.response;
    const meta = await this.meta(v.payload);
    if (!meta) return this.badLink(req, 404);
    const locale = pageLocale(meta.locale, this.config.defaults.locale);
    const csrf = this.csrf(req.token);
    const action = `${this.config.publicUrl}/t/p/${req.token}`;
    let saved = false;
    if (form !== undefined) {
      const refused = this.checkForm(req, form, csrf, locale);
      if (refused) return refused;
      const parsed = preferenceForm.safeParse(form);
      if (!parsed.success) return { status: 400, type: 'html', body: badLinkPage(locale) };
      const scope = ({ all: null, marketing_off: 'marketing', all_off: 'all' } as const)[parsed.data.choice];
      const at = this.clock.now();
      const row = await this.suppressions.setOwnChoice(meta.email, scope, 'preferences', meta.id, at);
      await this.engagement.insert([
        {
          messageId: meta.id,
          contactId: meta.contactId,
          accountId: meta.accountId,
          kind: scope === null ? 'resubscribe' : 'unsubscribe',
          machine: false,
          classification: 'preference_page',
          email: meta.email.toLowerCase(),
          userAgent: trimUserAgent(req.userAgent),
          ipHash: v.ipHash,
          data: { scope: row?.scope ?? null, reason: row?.reason ?? null, choice: parsed.data.choice },
          occurredAt: at,
        },
      ]);
      saved = true;
    }
    const row = await this.suppressions.get(meta.email);
    const blocked = !!row && row.reason !== 'unsubscribed';
    const current: PreferenceChoice = !row ? 'all' : row.scope === 'all' ? 'all_off' : 'marketing_off';
    return { status: 200, type: 'html', body: preferencesPage(locale, { email: meta.email, current, blocked, action, csrf, saved }) };
  }

  /** One-click answer (GET) and the optional comment (POST) of a survey link. */
  async survey(req: HitRequest, form?: unknown): Promise<TrackingResponse> {
    const v = this.verify(req, 's', this.pageLimiter);
    if ('response' in v) return v.response;
    const kind = v.payload.q;
    const score = v.payload.v;
    if ((kind !== 'nps' && kind !== 'csat') || typeof score !== 'number' || score < SURVEY_RANGES[kind][0] || score > SURVEY_RANGES[kind][1] || !Number.isInteger(score)) {
      return this.badLink(req, 400);
    }
    const meta = await this.meta(v.payload);
    if (!meta) return this.badLink(req, 404);
    const locale = pageLocale(meta.locale, this.config.defaults.locale);
    const csrf = this.csrf(req.token);
    const action = `${this.config.publicUrl}/t/s/${req.token}`;
    const at = this.clock.now();
    const base = { messageId: meta.id, contactId: meta.contactId, accountId: meta.accountId, kind: 'survey' as const, userAgent: trimUserAgent(req.userAgent), ipHash: v.ipHash, occurredAt: at };
    if (form !== undefined) {
      const refused = this.checkForm(req, form, csrf, locale);
      if (refused) return refused;
      const parsed = commentForm.safeParse(form);
      if (!parsed.success) return { status: 400, type: 'html', body: badLinkPage(locale) };
      const comment = parsed.data.comment.trim();
      let row = await this.engagement.commentSurvey(meta.id, kind, score, comment, at);
      if (!row) {
        await this.engagement.answerSurvey({ messageId: meta.id, contactId: meta.contactId, accountId: meta.accountId, kind, score, machine: false, classification: 'human_comment', at, burstSeconds: 0 });
        row = await this.engagement.commentSurvey(meta.id, kind, score, comment, at);
      }
      await this.engagement.insert([{ ...base, machine: false, classification: 'human_comment', data: { kind, score, commented: comment.length > 0 } }]);
      return { status: 200, type: 'html', body: surveyThanksPage(locale, { kind, score, action, csrf, commented: true }) };
    }
    const verdict = classify({ kind: 'click', method: req.method, userAgent: req.userAgent, ip: req.ip, sentAt: meta.sentAt, at }, this.config.tracking);
    await this.engagement.insert([{ ...base, ...verdict, data: { kind, score } }]);
    await this.engagement.answerSurvey({ messageId: meta.id, contactId: meta.contactId, accountId: meta.accountId, kind, score, ...verdict, at, burstSeconds: this.config.tracking.surveyBurstSeconds });
    return { status: 200, type: 'html', body: surveyThanksPage(locale, { kind, score, action, csrf }) };
  }

  private verify(req: HitRequest, purpose: TokenPayload['k'], limiter: RateLimiter): { payload: TokenPayload; ipHash: string | null } | { response: TrackingResponse } {
    const ipHash = this.ips.hash(req.ip);
    const now = this.clock.now().getTime();
    // Limit before verifying: forging tokens by brute force is exactly what the limit is for.
    if (!limiter.take(`${purpose}:${ipHash ?? 'none'}`, now)) {
      const locale = pageLocale(req.acceptLanguage?.slice(0, 2), this.config.defaults.locale);
      return { response: { status: 429, type: 'html', body: tooManyPage(locale), retryAfter: limiter.retryAfter(now) } };
    }
    const verified = verifyToken(this.config.secrets.trackingKeys, req.token, purpose);
    if (!verified.ok) return { response: this.badLink(req, 404) };
    return { payload: verified.payload, ipHash };
  }

  private async meta(payload: TokenPayload): Promise<MessageMeta | null> {
    let meta = this.metaCache.get(payload.m);
    if (meta) {
      // Least recently used goes first: a hit moves its message to the back.
      this.metaCache.delete(payload.m);
      this.metaCache.set(payload.m, meta);
    } else {
      const found = await this.engagement.message(payload.m);
      if (!found) return null;
      meta = found;
      if (meta.sentAt) {
        if (this.metaCache.size >= META_CACHE_SIZE) this.metaCache.delete(this.metaCache.keys().next().value!);
        this.metaCache.set(payload.m, meta);
      }
    }
    // The token binds the recipient: a token of another contact's message is refused.
    return meta.contactId === payload.r ? meta : null;
  }

  private badLink(req: HitRequest, status: number): TrackingResponse {
    return { status, type: 'html', body: badLinkPage(pageLocale(req.acceptLanguage?.slice(0, 2), this.config.defaults.locale)) };
  }

  /** The form field that proves the post came from our page for this very link. */
  private csrf(token: string): string {
    return createHmac('sha256', this.config.secrets.sessionSecret).update(`csrf:${token}`).digest('base64url');
  }

  /**
   * Form posts need the CSRF field of this link's page, and a browser that says where the
   * post came from must say it came from us (Origin / Sec-Fetch-Site). No cookies are used:
   * the signed token in the URL is the only credential.
   */
  private checkForm(req: HitRequest, form: unknown, csrf: string, locale: PageLocale): TrackingResponse | null {
    const refused: TrackingResponse = { status: 403, type: 'html', body: badLinkPage(locale) };
    if (req.origin && req.origin !== this.publicOrigin) return refused;
    if (req.fetchSite && req.fetchSite !== 'same-origin' && req.fetchSite !== 'none') return refused;
    const given = typeof form === 'object' && form !== null ? (form as { csrf?: unknown }).csrf : undefined;
    if (typeof given !== 'string') return refused;
    const a = Buffer.from(given);
    const b = Buffer.from(csrf);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return refused;
    return null;
  }
}

/** Only absolute http(s) URLs are redirect targets (signed or not: defence in depth). */
export function safeTarget(u: unknown): string | null {
  if (typeof u !== 'string' || u.length > 2048) return null;
  try {
    const url = new URL(u);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    if (!url.hostname) return null;
    return url.href;
  } catch {
    return null;
  }
}
