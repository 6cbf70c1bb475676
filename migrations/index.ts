import { Foundation1763800000000 } from './1763800000000-foundation';
import { Messaging1763820000000 } from './1763820000000-messaging';
import { HealthAndGuards1763830000000 } from './1763830000000-health-and-guards';
import { Delivery1763860000000 } from './1763860000000-delivery';

/** Every migration, in order. Listed explicitly so that builds and tests load the same set. */
export const migrations = [Foundation1763800000000, Messaging1763820000000, HealthAndGuards1763830000000, Delivery1763860000000];
