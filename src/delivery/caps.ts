/**
 * Frequency caps across all journeys: at most `limit` marketing emails per contact (or per
 * account) in any rolling `window`. Pure arithmetic over send times; the dispatcher supplies
 * the history (sent and in-flight messages) and serialises decisions per contact/account.
 */
import { formatDuration, parseDuration } from './durations';

export type CapScope = 'contact' | 'account';

export interface CapRule {
  scope: CapScope;
  limit: number;
  windowMs: number;
}

/** `contact:2/7d, contact:1/1d, account:10/1d`; empty or `none` = no caps. */
export function parseCaps(spec: string): CapRule[] {
  const text = spec.trim();
  if (text === '' || /^(none|off)$/i.test(text)) return [];
  return text.split(',').map((raw) => {
    const part = raw.trim();
    const m = /^(contact|account)\s*:\s*(\d+)\s*\/\s*(\S+)$/i.exec(part);
    if (!m) throw new Error(`"${part}": expected scope:limit/window such as "contact:2/7d"`);
    const limit = Number(m[2]);
    if (limit < 1) throw new Error(`"${part}": the limit must be at least 1`);
    let windowMs: number;
    try {
      windowMs = parseDuration(m[3]);
    } catch (err) {
      throw new Error(`"${part}": ${(err as Error).message}`);
    }
    return { scope: m[1].toLowerCase() as CapScope, limit, windowMs };
  });
}

export function describeCap(rule: CapRule): string {
  return `${rule.scope}:${rule.limit}/${formatDuration(rule.windowMs)}`;
}

export type CapCheck = { ok: true } | { ok: false; rule: CapRule; allowedAt: number };

/**
 * Whether one more send at `now` stays within every rule, given the send times already
 * counted for the contact and the account. When not, the earliest moment every broken rule
 * allows it again (the oldest counted sends having left their windows).
 */
export function checkCaps(now: number, rules: readonly CapRule[], history: Record<CapScope, readonly number[]>): CapCheck {
  let worst: { rule: CapRule; allowedAt: number } | null = null;
  for (const rule of rules) {
    const inWindow = history[rule.scope].filter((t) => t > now - rule.windowMs).sort((a, b) => a - b);
    if (inWindow.length < rule.limit) continue;
    // Sends that must age out before one more fits: the (count - limit + 1) oldest.
    const allowedAt = inWindow[inWindow.length - rule.limit] + rule.windowMs;
    if (!worst || allowedAt > worst.allowedAt) worst = { rule, allowedAt };
  }
  return worst ? { ok: false, ...worst } : { ok: true };
}

/** The longest window of the rules (how far back history must reach). */
export function longestWindow(rules: readonly CapRule[]): number {
  return rules.reduce((max, r) => Math.max(max, r.windowMs), 0);
}
