import * as N from './names';

/**
 * A deterministic demo dataset as Segment messages: accounts spread across lifecycle phases
 * and contacts with 60 days of usage following one of four patterns.
 */
export type UsagePattern = 'engaged' | 'fading' | 'never_started' | 'recovering';

export const FEATURES = ['report_created', 'dashboard_viewed', 'mail_sent', 'integration_connected', 'workflow_created', 'export_csv', 'user_invited'];

export interface DemoOptions {
  accounts: number;
  days: number;
  seed: number;
  now: Date;
}

export interface DemoAccount {
  id: string;
  pattern: UsagePattern;
  messages: unknown[];
}

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

function weighted<T extends string>(r: () => number, weights: Record<T, number>): T {
  const total = Object.values<number>(weights).reduce((a, b) => a + b, 0);
  let x = r() * total;
  for (const [k, w] of Object.entries<number>(weights)) {
    x -= w;
    if (x <= 0) return k as T;
  }
  return Object.keys(weights)[0] as T;
}

const isoDate = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Relative daily activity (0..1) of a pattern `daysAgo` days before now, over a `span`-day history. */
export function intensity(pattern: UsagePattern, daysAgo: number, span: number): number {
  const progress = 1 - daysAgo / span; // 0 at the start of history, 1 today
  switch (pattern) {
    case 'engaged':
      return 0.75;
    case 'fading':
      return daysAgo < 18 ? 0.02 : Math.max(0.05, 0.7 - progress * 0.9);
    case 'never_started':
      return daysAgo > span - 3 ? 0.3 : 0;
    case 'recovering':
      return daysAgo > 40 ? 0.6 : daysAgo > 12 ? 0.08 : 0.65;
  }
}

export function generateAccount(index: number, opts: DemoOptions): DemoAccount {
  const r = rng(opts.seed * 1_000_003 + index);
  const now = opts.now.getTime();
  const ja = r() < 0.7;
  const phase = weighted(r, { onboarding: 25, adoption: 35, established: 25, renewal: 10, churned: 5 });
  const sinceStart = { onboarding: 5 + r() * 55, adoption: 60 + r() * 120, established: 200 + r() * 500, renewal: 300 + r() * 40, churned: 380 + r() * 200 }[phase];
  const contractStart = now - Math.floor(sinceStart) * DAY;
  const years = phase === 'established' && r() < 0.4 ? 2 : 1;
  let renewal = contractStart + years * 365 * DAY;
  while (renewal < now && phase !== 'churned') renewal += 365 * DAY;
  const plan = weighted(r, { starter: 45, growth: 40, enterprise: 15 });
  const seats = { starter: 5, growth: 20, enterprise: 100 }[plan];
  const mrr = { starter: 30_000, growth: 120_000, enterprise: 600_000 }[plan] * (ja ? 1 : 0.007);
  const highTouch = plan === 'enterprise' ? r() < 0.6 : r() < 0.04;
  let pattern = weighted<UsagePattern>(r, { engaged: 40, fading: 25, never_started: 12, recovering: 23 });
  if (phase === 'onboarding' && r() < 0.3) pattern = 'never_started';
  if (phase === 'churned') pattern = 'fading';
  const stem = ja ? pick(r, N.JA_COMPANY_STEMS) : pick(r, N.EN_COMPANY_STEMS);
  const kind = ja ? pick(r, N.JA_COMPANY_KINDS) : pick(r, N.EN_COMPANY_KINDS);
  const name = ja ? `株式会社${stem}${kind}` : `${stem} ${kind}`;
  const domain = `${(ja ? N.JA_COMPANY_ROMAJI[stem] : stem.toLowerCase().replace(/\s+/g, ''))}-${index}.example`;
  const id = `acct-${String(index + 1).padStart(5, '0')}`;
  const messages: unknown[] = [];
  const at = (t: number) => new Date(t).toISOString();
  messages.push({
    type: 'group',
    messageId: `demo-${id}-group`,
    anonymousId: 'demo-seed',
    groupId: id,
    timestamp: at(contractStart),
    traits: {
      name,
      plan,
      mrr: Math.round(mrr),
      seats,
      sizeSegment: { starter: 'smb', growth: 'mid', enterprise: 'enterprise' }[plan],
      region: ja ? 'jp' : pick(r, ['na', 'emea']),
      phase,
      contractStart: isoDate(contractStart),
      renewalDate: isoDate(renewal),
      highTouch,
      csmOwner: highTouch ? pick(r, N.CSMS) : null,
      timezone: ja ? 'Asia/Tokyo' : pick(r, ['America/New_York', 'America/Los_Angeles', 'Europe/London']),
      locale: ja ? 'ja' : 'en',
      industry: kind,
    },
  });
  const contactCount = Math.max(2, Math.round(seats * (0.15 + r() * 0.25)));
  const breadth = 1 + Math.floor(r() * FEATURES.length);
  const features = FEATURES.slice(0, breadth);
  for (let c = 0; c < contactCount; c++) {
    const role = c === 0 ? 'admin' : c === 1 && r() < 0.5 ? 'admin' : r() < 0.8 ? 'member' : 'viewer';
    let person: string;
    let email: string;
    if (ja) {
      const [fam, famR] = pick(r, N.JA_FAMILY);
      const [giv, givR] = pick(r, N.JA_GIVEN);
      person = `${fam} ${giv}`;
      email = `${givR}.${famR}${c}@${domain}`;
    } else {
      const first = pick(r, N.EN_FIRST);
      const last = pick(r, N.EN_LAST);
      person = `${first} ${last}`;
      email = `${first}.${last}${c}@${domain}`.toLowerCase();
    }
    const userId = `${id}-u${c + 1}`;
    // Most people joined at contract start; in older accounts some arrived recently.
    const joined = c >= 2 && phase === 'established' && r() < 0.12 ? now - Math.floor(r() * 10) * DAY - DAY : contractStart + Math.floor(r() * 10) * DAY;
    const joinedAt = Math.min(joined, now - 3_600_000);
    messages.push({
      type: 'identify',
      messageId: `demo-${userId}-identify`,
      userId,
      timestamp: at(joinedAt),
      traits: { name: person, email, role, locale: ja ? 'ja' : 'en', consent: { marketing: r() < 0.92, source: 'signup-form', at: at(joinedAt) } },
      context: { timezone: ja ? 'Asia/Tokyo' : 'America/New_York' },
    });
    messages.push({ type: 'group', messageId: `demo-${userId}-join`, userId, groupId: id, timestamp: at(joinedAt), traits: {} });
    const activity = role === 'viewer' ? 0.4 : 0.6 + r() * 0.4;
    for (let d = opts.days; d >= 0; d--) {
      const dayStart = now - d * DAY;
      if (dayStart < joinedAt || dayStart < contractStart) continue;
      const weekday = new Date(dayStart).getUTCDay();
      const weekend = weekday === 0 || weekday === 6;
      if (r() > intensity(pattern, d, opts.days) * activity * (weekend ? 0.2 : 1)) continue;
      const base = dayStart - (dayStart % DAY) + (ja ? 0 : 13 * 3_600_000) + Math.floor(r() * 9 * 3_600_000);
      const t = Math.min(base, now - 60_000);
      messages.push({ type: 'track', messageId: `demo-${userId}-${d}-login`, userId, event: 'login', timestamp: at(t) });
      const uses = Math.floor(r() * 4);
      for (let u = 0; u < uses; u++) {
        const feature = pick(r, features);
        messages.push({ type: 'track', messageId: `demo-${userId}-${d}-${u}`, userId, event: feature, timestamp: at(Math.min(t + (u + 1) * 300_000, now - 1000)), properties: { source: 'demo' } });
      }
    }
  }
  return { id, pattern, messages };
}
