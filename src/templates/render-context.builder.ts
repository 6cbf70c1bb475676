import { Inject, Injectable } from '@nestjs/common';
import * as path from 'node:path';
import { AccountRow, AccountsRepository, ContactRow } from '../accounts/accounts.repository';
import { loadTeamDirectory, TeamDirectory } from '../accounts/team-directory';
import { Clock } from '../common/clock';
import { InvalidInput, NotFound } from '../common/errors';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { Signal } from '../signals/signal';
import { SignalsService } from '../signals/signals.service';
import { RenderContext, RenderSignals } from './render-context';

/**
 * Builds the standard render context of one recipient: the contact, the account (the given
 * one or the contact's primary account), its CSM from team.yaml, and the fixed signal set
 * (two signal statements: one for the account, one for the contact).
 */
@Injectable()
export class RenderContextBuilder {
  private team?: TeamDirectory;

  constructor(
    private readonly accounts: AccountsRepository,
    private readonly signals: SignalsService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** The CSM directory, read once; an invalid team.yaml is an error naming file:line. */
  teamDirectory(): TeamDirectory {
    if (!this.team) {
      const file = this.config.templates.teamFile;
      const loaded = loadTeamDirectory(file, path.relative(process.cwd(), file) || file);
      if (!loaded.ok) throw new InvalidInput('team directory has errors', loaded.problems);
      this.team = loaded.team;
    }
    return this.team;
  }

  async forRecipient(contactId: string, accountId?: string): Promise<RenderContext> {
    const contact = await this.accounts.contactById(contactId);
    if (!contact) throw new NotFound(`contact ${contactId} not found`);
    const aid = accountId ?? contact.account_id;
    if (!aid) throw new InvalidInput(`contact ${contact.external_id} belongs to no account`, [{ path: 'accountId', message: 'required: the contact has no primary account' }]);
    const account = await this.accounts.accountById(aid);
    if (!account) throw new NotFound(`account ${aid} not found`);
    const now = this.clock.now();
    const signals = await this.computeSignals(account, contact, now);
    return buildContext(contact, account, signals, this.csmOf(account), this.config, now);
  }

  /**
   * Many recipients at once (the engine's batches): rows in two queries, signals in two
   * statements for the whole batch — the same context forRecipient builds, one at a time.
   * A recipient whose contact or account is missing maps to an Error instead of a context.
   */
  async forRecipients(pairs: { contactId: string; accountId: string }[]): Promise<Map<string, RenderContext | Error>> {
    const out = new Map<string, RenderContext | Error>();
    if (!pairs.length) return out;
    const now = this.clock.now();
    const contacts = new Map((await this.accounts.contactsByIds([...new Set(pairs.map((p) => p.contactId))])).map((c) => [String(c.id), c]));
    const accounts = new Map((await this.accounts.accountsByIds([...new Set(pairs.map((p) => p.accountId))])).map((a) => [String(a.id), a]));
    const { accountSignals, contactSignals } = this.signalSets();
    const [av, cv] = await Promise.all([
      this.signals.evaluate('account', [...accounts.keys()], accountSignals, now),
      this.signals.evaluate('contact', [...contacts.keys()], contactSignals, now),
    ]);
    for (const p of pairs) {
      const contact = contacts.get(p.contactId);
      const account = accounts.get(p.accountId);
      const key = `${p.contactId}:${p.accountId}`;
      if (!contact || !account) {
        out.set(key, new NotFound(!contact ? `contact ${p.contactId} not found` : `account ${p.accountId} not found`));
        continue;
      }
      const signals = this.toRenderSignals(account, av.get(p.accountId) ?? accountSignals.map(() => null), cv.get(p.contactId) ?? contactSignals.map(() => null));
      out.set(key, buildContext(contact, account, signals, this.csmOf(account), this.config, now));
    }
    return out;
  }

  private csmOf(account: AccountRow): RenderContext['csm'] {
    const csm = account.csm_owner ? this.teamDirectory().csms.get(account.csm_owner) : undefined;
    return csm ? { name: csm.name, email: csm.email, ...(csm.title ? { title: csm.title } : {}) } : null;
  }

  private signalSets(): { accountSignals: Signal[]; contactSignals: Signal[] } {
    const { keyFeatures, loginEvent } = this.config.templates;
    const accountSignals: Signal[] = [
      { kind: 'active_contacts', days: 30 },
      { kind: 'distinct_events', days: 30, events: keyFeatures },
      { kind: 'days_until_renewal' },
      { kind: 'days_since_contract_start' },
      { kind: 'event_count', event: loginEvent, days: 30 },
      { kind: 'event_count', event: loginEvent, days: 30, offsetDays: 30 },
      ...keyFeatures.flatMap((event): Signal[] => [
        { kind: 'event_count', event, days: 30 },
        { kind: 'days_since_last', event },
      ]),
    ];
    const contactSignals: Signal[] = [
      { kind: 'days_since_last', event: loginEvent },
      { kind: 'event_count', event: loginEvent, days: 30 },
    ];
    return { accountSignals, contactSignals };
  }

  private async computeSignals(account: AccountRow, contact: ContactRow, now: Date): Promise<RenderSignals> {
    const { accountSignals, contactSignals } = this.signalSets();
    const [a, c] = await Promise.all([
      this.signals.forAccount(account.id, accountSignals, now),
      this.signals.forContact(contact.id, contactSignals, now),
    ]);
    return this.toRenderSignals(account, a ?? accountSignals.map(() => null), c ?? contactSignals.map(() => null));
  }

  private toRenderSignals(account: AccountRow, av: (number | null)[], cv: (number | null)[]): RenderSignals {
    const { keyFeatures } = this.config.templates;
    const usage = keyFeatures.map((key, i) => ({ key, count30d: av[6 + i * 2] ?? 0, daysSinceLast: av[7 + i * 2] }));
    const seats = account.seats;
    const active = av[0] ?? 0;
    return {
      daysSinceLastLogin: cv[0],
      logins30d: cv[1] ?? 0,
      accountLogins30d: av[4] ?? 0,
      accountLoginsPrev30d: av[5] ?? 0,
      activeUsers30d: active,
      seats,
      seatUtilization: seats ? Math.round((active / seats) * 100) : null,
      featuresUsed30d: av[1] ?? 0,
      usedFeatures: usage.filter((u) => u.daysSinceLast !== null).map((u) => u.key),
      unusedFeatures: usage.filter((u) => u.daysSinceLast === null).map((u) => u.key),
      keyFeatureUsage: usage,
      daysUntilRenewal: av[2],
      daysSinceContractStart: av[3],
    };
  }
}

/** Rows to context: pure, so tests and the console can build one from stored data. */
export function buildContext(
  contact: ContactRow,
  account: AccountRow,
  signals: RenderSignals,
  csm: RenderContext['csm'],
  config: Pick<Config, 'sender' | 'defaults'>,
  now: Date,
): RenderContext {
  const traits = contact.traits ?? {};
  const firstName = typeof traits.firstName === 'string' ? traits.firstName : typeof traits.first_name === 'string' ? traits.first_name : undefined;
  const email = contact.email ?? '';
  return {
    contact: {
      id: String(contact.id),
      externalId: contact.external_id,
      name: contact.name || email.split('@')[0] || contact.external_id,
      ...(firstName ? { firstName } : {}),
      email,
      role: contact.role,
      locale: contact.locale || account.locale || config.defaults.locale,
      timezone: contact.timezone || account.timezone || config.defaults.timezone,
      traits,
    },
    account: {
      id: String(account.id),
      externalId: account.external_id,
      name: account.name,
      plan: account.plan,
      phase: account.phase,
      mrr: account.mrr === null ? null : Number(account.mrr),
      seats: account.seats,
      contractStart: account.contract_start,
      renewalDate: account.renewal_date,
      csmOwner: account.csm_owner,
      highTouch: account.high_touch,
      traits: account.traits ?? {},
    },
    csm,
    signals,
    sender: { ...config.sender },
    now: now.toISOString(),
  };
}
