/**
 * The checks made before each send, as one pure decision over a claimed batch:
 * suppression (and marketing consent) → quiet hours → frequency caps with priority.
 * The dispatcher gathers the facts in the claim transaction and applies the decisions there.
 */
import { CapRule, CapScope, checkCaps, describeCap } from './caps';
import { describeWindow, nextSendMoment, SendWindow } from './send-window';

export interface Candidate {
  id: string;
  contactId: string;
  accountId: string | null;
  category: 'marketing' | 'operational';
  priority: number;
  createdAt: number;
  expiresAt: number | null;
  scheduledAt: number;
  suppression: { scope: 'marketing' | 'all'; reason: string } | null;
  consentMarketing: boolean | null;
  /** Resolved zone: contact → account → default. */
  timezone: string;
}

/** A due marketing message not in this batch (another dispatcher's, or beyond the batch). */
export interface Competitor {
  id: string;
  contactId: string;
  accountId: string | null;
  priority: number;
}

export interface GatePolicy {
  window: SendWindow;
  /** Operational mail ignores the send window unless this is set. */
  windowForOperational: boolean;
  caps: readonly CapRule[];
  /** How long a capped message may wait when it has no expires_at of its own. */
  capTtlMs: number;
}

export interface GateFacts {
  now: number;
  /** Counted marketing send times (sent, or in flight) per contact and per account. */
  contactSends: ReadonlyMap<string, readonly number[]>;
  accountSends: ReadonlyMap<string, readonly number[]>;
  competitors: readonly Competitor[];
}

export type Decision =
  | { id: string; action: 'send' }
  | { id: string; action: 'suppress'; reason: string }
  | { id: string; action: 'defer'; until: number; reason: string }
  | { id: string; action: 'cap_expired'; reason: string };

const byPriority = (a: Candidate, b: Candidate) => b.priority - a.priority || a.scheduledAt - b.scheduledAt || Number(a.id) - Number(b.id);

export function decide(candidates: readonly Candidate[], policy: GatePolicy, facts: GateFacts): Decision[] {
  const { now } = facts;
  const contactSends = new Map<string, number[]>();
  const accountSends = new Map<string, number[]>();
  const sendsOf = (scope: CapScope, key: string | null): number[] => {
    if (key === null) return [];
    const map = scope === 'contact' ? contactSends : accountSends;
    let list = map.get(key);
    if (!list) {
      list = [...((scope === 'contact' ? facts.contactSends : facts.accountSends).get(key) ?? [])];
      map.set(key, list);
    }
    return list;
  };
  const decisions: Decision[] = [];
  // Higher priority first, so that within a batch the higher-priority message takes the slot.
  for (const c of [...candidates].sort(byPriority)) {
    if (c.suppression && (c.suppression.scope === 'all' || c.category === 'marketing')) {
      decisions.push({ id: c.id, action: 'suppress', reason: `address suppressed: ${c.suppression.reason}` });
      continue;
    }
    if (c.category === 'marketing' && c.consentMarketing !== true) {
      decisions.push({ id: c.id, action: 'suppress', reason: c.consentMarketing === false ? 'no marketing consent (refused)' : 'no marketing consent (never given)' });
      continue;
    }
    const windowed = c.category === 'marketing' || policy.windowForOperational;
    if (windowed && policy.window) {
      const next = nextSendMoment(new Date(now), c.timezone, policy.window).getTime();
      if (next > now) {
        decisions.push({ id: c.id, action: 'defer', until: next, reason: `outside the send window (${describeWindow(policy.window)} in ${c.timezone})` });
        continue;
      }
    }
    if (c.category !== 'marketing' || !policy.caps.length) {
      decisions.push({ id: c.id, action: 'send' });
      continue;
    }
    // Due higher-priority messages elsewhere hold their slot as if sent now.
    const ahead = facts.competitors.filter((o) => o.priority > c.priority && (o.contactId === c.contactId || (c.accountId !== null && o.accountId === c.accountId)));
    const history = {
      contact: [...sendsOf('contact', c.contactId), ...ahead.filter((o) => o.contactId === c.contactId).map(() => now)],
      account: [...sendsOf('account', c.accountId), ...ahead.filter((o) => c.accountId !== null && o.accountId === c.accountId).map(() => now)],
    };
    const check = checkCaps(now, policy.caps, history);
    if (check.ok) {
      sendsOf('contact', c.contactId).push(now);
      if (c.accountId !== null) sendsOf('account', c.accountId).push(now);
      decisions.push({ id: c.id, action: 'send' });
      continue;
    }
    const blocker = ahead.length ? ` (higher-priority message ${ahead.map((o) => o.id).join(', ')} goes first)` : '';
    let until = check.allowedAt;
    if (policy.window) until = nextSendMoment(new Date(until), c.timezone, policy.window).getTime();
    const expiry = c.expiresAt ?? c.createdAt + policy.capTtlMs;
    const rule = describeCap(check.rule);
    if (until > expiry) {
      decisions.push({ id: c.id, action: 'cap_expired', reason: `frequency cap ${rule}${blocker}: next allowed ${new Date(until).toISOString()}, after the message expired at ${new Date(expiry).toISOString()}` });
    } else {
      decisions.push({ id: c.id, action: 'defer', until, reason: `frequency cap ${rule}${blocker}` });
    }
  }
  return decisions;
}
