import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Config } from '../config/config';
import type { Scope } from '../config/config.schema';
import { CONFIG } from '../config/config.module';
import { DomainError } from '../common/errors';
import { requireScope } from './api-keys';
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
    requireScope(this.config.secrets.apiKeys, req.headers, scope);
    return true;
  }
}
