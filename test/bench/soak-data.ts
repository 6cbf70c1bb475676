import { cachedDatabase } from './bench-db';
import { generateConsoleData } from './console-data';

/** The instant the generated data set is "now" at (the console generator's): the soak's virtual clock starts here. */
export const DATA_NOW = '2026-11-20T03:00:00Z';

export interface SoakDataOptions {
  accounts: number;
  contactsPerAccount: number;
  eventsPerAccount: number;
  regenerate?: boolean;
  log?: (msg: string) => void;
}

/**
 * Demo-shaped data at scale (the console benchmark's set-based generator: phases, plans,
 * usage patterns, health with snapshots, past messages with engagement, hand-offs), generated
 * once per size and kept between runs (cachedDatabase); each run works on its own copy.
 */
export function soakDatabase(o: SoakDataOptions) {
  const key = `soak_${o.accounts}_${o.contactsPerAccount}_${o.eventsPerAccount}`;
  return cachedDatabase(
    key,
    (url) => generateConsoleData(url, { accounts: o.accounts, contactsPerAccount: o.contactsPerAccount, eventsPerAccount: o.eventsPerAccount, now: new Date(DATA_NOW), log: o.log }),
    { regenerate: o.regenerate, log: o.log },
  );
}
