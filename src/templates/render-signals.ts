import type { ContextAccountRow } from '../accounts/accounts.repository';
import { Signal, signalName } from '../signals/signal';
import type { SignalField } from './context-subset';
import { RenderSignals, SIGNAL_FIELDS } from './render-context';

type Values = (number | null)[];
type Getter = (account: ContextAccountRow, av: Values, cv: Values) => unknown;

export interface SignalPlan {
  /** What the account statement computes (empty: no statement). */
  account: Signal[];
  /** What the contact statement computes (empty: no statement). */
  contact: Signal[];
  /** The fields asked for, from one recipient's values (`av` for `account`, `cv` for `contact`). */
  values(account: ContextAccountRow, av: Values, cv: Values): Partial<RenderSignals>;
}

/**
 * The signals behind the asked-for fields of the render context, and how each field is made
 * from them: a template that reads `signals.activeUsers30d` costs one aggregate (active
 * contacts over 30 days, which reads no rollup `count`), not the whole set.
 */
export function signalPlan(fields: ReadonlySet<SignalField>, o: { keyFeatures: string[]; loginEvent: string }): SignalPlan {
  const account: Signal[] = [];
  const contact: Signal[] = [];
  const add = (list: Signal[], s: Signal) => {
    const name = signalName(s);
    const i = list.findIndex((x) => signalName(x) === name);
    return i >= 0 ? i : list.push(s) - 1;
  };
  const login = o.loginEvent;
  // Per key feature: its 30-day count (only for keyFeatureUsage: a count reads the rollups' heap) and days since its last use.
  const usage = (withCount: boolean) =>
    o.keyFeatures.map((event) => ({
      key: event,
      count: withCount ? add(account, { kind: 'event_count', event, days: 30 }) : -1,
      last: add(account, { kind: 'days_since_last', event }),
    }));
  const getters: [SignalField, Getter][] = [];
  for (const field of SIGNAL_FIELDS) {
    if (!fields.has(field)) continue;
    let get: Getter;
    switch (field) {
      case 'daysSinceLastLogin': {
        const i = add(contact, { kind: 'days_since_last', event: login });
        get = (_a, _av, cv) => cv[i];
        break;
      }
      case 'logins30d': {
        const i = add(contact, { kind: 'event_count', event: login, days: 30 });
        get = (_a, _av, cv) => cv[i] ?? 0;
        break;
      }
      case 'accountLogins30d':
      case 'accountLoginsPrev30d': {
        const i = add(account, { kind: 'event_count', event: login, days: 30, ...(field === 'accountLoginsPrev30d' ? { offsetDays: 30 } : {}) });
        get = (_a, av) => av[i] ?? 0;
        break;
      }
      case 'activeUsers30d': {
        const i = add(account, { kind: 'active_contacts', days: 30 });
        get = (_a, av) => av[i] ?? 0;
        break;
      }
      case 'seats':
        get = (a) => a.seats;
        break;
      case 'seatUtilization': {
        const i = add(account, { kind: 'active_contacts', days: 30 });
        get = (a, av) => (a.seats ? Math.round(((av[i] ?? 0) / a.seats) * 100) : null);
        break;
      }
      case 'featuresUsed30d': {
        const i = add(account, { kind: 'distinct_events', days: 30, events: o.keyFeatures });
        get = (_a, av) => av[i] ?? 0;
        break;
      }
      case 'usedFeatures':
      case 'unusedFeatures': {
        const used = field === 'usedFeatures';
        const u = usage(false);
        get = (_a, av) => u.filter((f) => (av[f.last] !== null) === used).map((f) => f.key);
        break;
      }
      case 'keyFeatureUsage': {
        const u = usage(true);
        get = (_a, av) => u.map((f) => ({ key: f.key, count30d: av[f.count] ?? 0, daysSinceLast: av[f.last] }));
        break;
      }
      case 'daysUntilRenewal': {
        const i = add(account, { kind: 'days_until_renewal' });
        get = (_a, av) => av[i];
        break;
      }
      case 'daysSinceContractStart': {
        const i = add(account, { kind: 'days_since_contract_start' });
        get = (_a, av) => av[i];
        break;
      }
    }
    getters.push([field, get]);
  }
  return {
    account,
    contact,
    values(a, av, cv) {
      const out: Record<string, unknown> = {};
      for (const [field, get] of getters) out[field] = get(a, av, cv);
      return out as Partial<RenderSignals>;
    },
  };
}
