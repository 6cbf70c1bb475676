import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors';
import type { Config, RateGroup } from '../config/config';
import { CONFIG } from '../config/config.module';
import { RateLimiter } from '../tracking/rate-limit';

export const RATE_GROUP_KEY = 'touchline:rate-group';

/**
 * The route is public and limited per client address (unsubscribe, console login, webhooks).
 * Tracking hits and pages have their own limiter in TrackingService, checked before the token.
 */
export const RateLimited = (group: RateGroup) => SetMetadata(RATE_GROUP_KEY, group);

/**
 * Global guard after the API-key guard: counts requests per group and client address in this
 * process (fixed one-minute windows, memory bounded by one window's clients) and refuses the
 * excess with 429 and Retry-After. Addresses stay in memory only.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly limiters = new Map<RateGroup, RateLimiter>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const group = this.reflector.getAllAndOverride<RateGroup>(RATE_GROUP_KEY, [context.getHandler(), context.getClass()]);
    if (!group) return true;
    let limiter = this.limiters.get(group);
    if (!limiter) this.limiters.set(group, (limiter = new RateLimiter(this.config.publicRates[group])));
    const req = context.switchToHttp().getRequest<Request>();
    const now = this.clock.now().getTime();
    if (limiter.take(req.ip ?? 'none', now)) return true;
    context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(limiter.retryAfter(now)));
    throw new DomainError('rate_limited', `too many requests from this address: at most ${this.config.publicRates[group]} per minute, try again later`);
  }
}
