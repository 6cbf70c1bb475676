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

  private csmOf(account: AccountRow): RenderContext['csm'] {
    const csm = account.csm_owner ? this.teamDirectory().csms.get(account.csm_owner) : undefined;
    return csm ? { name: csm.name, email: csm.email, ...(csm.title ? { title: csm.title } : {}) } : null;
  }

  private async computeSignals(account: AccountRow, contact: ContactRow, now: Date): Promise<RenderSignals> {
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
    const [a, c] = await Promise.all([
      this.signals.forAccount(account.id, accountSignals, now),
      this.signals.forContact(contact.id, contactSignals, now),
    ]);
    const av = a ?? accountSignals.map(() => null);
    const cv = c ?? contactSignals.map(() => null);
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
