import { Foundation1763800000000 } from './1763800000000-foundation';

/** Every migration, in order. Listed explicitly so that builds and tests load the same set. */
export const migrations = [Foundation1763800000000];
