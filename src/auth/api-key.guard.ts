import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Config } from '../config/config';
import type { Scope } from '../config/config.schema';
import { CONFIG } from '../config/config.module';
import { DomainError } from '../common/errors';
import { keyGrants, presentedKey } from './api-keys';
import { PUBLIC_KEY, SCOPE_KEY } from './scopes.decorator';

/**
 * Global guard: every route must declare @Public() or @RequireScope(...). A route that
 * declares neither is refused, so a forgotten decorator fails closed.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const scope = this.reflector.getAllAndOverride<Scope>(SCOPE_KEY, targets);
    if (!scope) throw new DomainError('forbidden', 'this route declares no access scope');
    const req = context.switchToHttp().getRequest<Request>();
    const key = presentedKey(req.headers);
    if (!key) throw new DomainError('unauthorized', `an API key with the "${scope}" scope is required (Authorization: Bearer KEY)`);
    if (!keyGrants(this.config.secrets.apiKeys, key, scope)) {
      throw new DomainError('forbidden', `this API key does not have the "${scope}" scope`);
    }
    return true;
  }
}
