import { SetMetadata } from '@nestjs/common';
import type { Scope } from '../config/config.schema';

export const SCOPE_KEY = 'touchline:scope';
export const PUBLIC_KEY = 'touchline:public';

/** The route needs an API key with this scope (the admin key has every scope). */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_KEY, scope);

/** The route is public on purpose (tracking links, health checks, login pages). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
