import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { CONFIG } from '../config/config.module';
import type { Config } from '../config/config';
import { InvalidInput } from '../common/errors';
import { verifyToken } from '../tracking/tokens';
import { parseInboundUnsubscribe } from './inbound-unsubscribe';
import { UnsubscribeRepository, UnsubscribeTarget } from './unsubscribe.repository';

export type LinkState = { ok: true; target: UnsubscribeTarget } | { ok: false; reason: string };

/** One-click unsubscribe (RFC 8058) behind signed links. */
@Injectable()
export class UnsubscribeService {
  constructor(
    private readonly repo: UnsubscribeRepository,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** What a link points at, without changing anything (the GET confirmation page). */
  async inspect(token: string): Promise<LinkState> {
    const v = verifyToken(this.config.secrets.trackingKeys, token, 'u');
    if (!v.ok) return { ok: false, reason: v.reason };
    const target = await this.repo.target(v.payload.m, v.payload.r);
    if (!target) return { ok: false, reason: 'the recipient no longer exists' };
    return { ok: true, target };
  }

  /** Unsubscribes the link's address from marketing mail; every queued message to it is suppressed at once. */
  async unsubscribe(token: string, source: 'one-click' | 'page' | 'mailto'): Promise<LinkState & { suppressedMessages?: number }> {
    const state = await this.inspect(token);
    if (!state.ok) return state;
    const result = await this.repo.unsubscribe(state.target, source, this.clock.now());
    return { ...state, suppressedMessages: result.suppressedMessages };
  }

  /**
   * Mail to the List-Unsubscribe mailto, from an inbound-parse webhook: unsubscribes exactly
   * the address the token's message went to. Anything else (another mailbox, no token, a
   * forged or altered token) is a 400 and changes nothing.
   */
  async unsubscribeByMail(body: unknown): Promise<{ unsubscribed: string; suppressedMessages: number }> {
    const mail = parseInboundUnsubscribe(body, this.config.delivery.unsubscribeMailto);
    const state = await this.unsubscribe(mail.token, 'mailto');
    if (!state.ok) throw new InvalidInput(`unsubscribe token rejected: ${state.reason}`, [{ path: 'subject', message: state.reason }]);
    return { unsubscribed: state.target.email, suppressedMessages: state.suppressedMessages ?? 0 };
  }
}
