import { Inject, Injectable } from '@nestjs/common';
import * as path from 'node:path';
import { AccountsRepository, ContextAccountRow, ContextContactRow } from '../accounts/accounts.repository';
import { loadTeamDirectory, TeamDirectory } from '../accounts/team-directory';
import { Clock, isoTime } from '../common/clock';
import { InvalidInput, NotFound } from '../common/errors';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { SignalsService } from '../signals/signals.service';
import { ContextNeeds, projectContext, SignalField, signalFields } from './context-subset';
import { RenderContext, RenderSignals, SIGNAL_FIELDS } from './render-context';
import { signalPlan, SignalPlan } from './render-signals';

/**
 * Builds the standard render context of one recipient: the contact, the account (the given
 * one or the contact's primary account), its CSM from team.yaml, and the signal set
 * (two signal statements: one for the account, one for the contact) — or, for a message
 * pinned to a template version, only the part of it that version reads (`forSends`).
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
    const plan = this.plan(new Set(SIGNAL_FIELDS));
    const [a, c] = await Promise.all([
      this.signals.forAccount(account.id, plan.account, now),
      this.signals.forContact(contact.id, plan.contact, now),
    ]);
    const signals = plan.values(account, a ?? plan.account.map(() => null), c ?? plan.contact.map(() => null)) as RenderSignals;
    return buildContext(contact, account, signals, this.csmOf(account), this.config, now);
  }

  /**
   * Many recipients at once (the engine's batches), each context holding only what its `needs`
   * name (`projectContext`; ALL_CONTEXT: the whole context forRecipient builds): rows in two
   * queries, and the signals are computed for the fields any of them reads (at most one
   * statement per subject kind, none when no template reads one), so a template that reads
   * two signals costs two aggregates, not the standard set. Keyed by each send's `key`; a
   * recipient whose contact or account is missing maps to an Error instead of a context.
   */
  async forSends(sends: { key: string; contactId: string; accountId: string; needs: ContextNeeds }[]): Promise<Map<string, Partial<RenderContext> | Error>> {
    const out = new Map<string, Partial<RenderContext> | Error>();
    if (!sends.length) return out;
    const now = this.clock.now();
    const fields = new Set([...new Set(sends.map((s) => s.needs))].flatMap((needs) => [...signalFields(needs, SIGNAL_FIELDS)]));
    const plan = this.plan(fields);
    const contactIds = [...new Set(sends.map((p) => p.contactId))];
    const accountIds = [...new Set(sends.map((p) => p.accountId))];
    const none = new Map<string, (number | null)[]>();
    // The four reads are independent (a missing subject has no signal row either): in parallel, one round trip's wait.
    const [contactRows, accountRows, av, cv] = await Promise.all([
      this.accounts.contactsByIds(contactIds),
      this.accounts.accountsByIds(accountIds),
      plan.account.length ? this.signals.evaluate('account', accountIds, plan.account, now) : none,
      plan.contact.length ? this.signals.evaluate('contact', contactIds, plan.contact, now) : none,
    ]);
    const contacts = new Map(contactRows.map((c) => [String(c.id), c]));
    const accounts = new Map(accountRows.map((a) => [String(a.id), a]));
    for (const p of sends) {
      const contact = contacts.get(p.contactId);
      const account = accounts.get(p.accountId);
      if (!contact || !account) {
        out.set(p.key, new NotFound(!contact ? `contact ${p.contactId} not found` : `account ${p.accountId} not found`));
        continue;
      }
      const signals = plan.values(account, av.get(p.accountId) ?? plan.account.map(() => null), cv.get(p.contactId) ?? plan.contact.map(() => null)) as RenderSignals;
      out.set(p.key, projectContext(buildContext(contact, account, signals, this.csmOf(account), this.config, now), p.needs));
    }
    return out;
  }

  private csmOf(account: ContextAccountRow): RenderContext['csm'] {
    const csm = account.csm_owner ? this.teamDirectory().csms.get(account.csm_owner) : undefined;
    if (!csm) return null;
    return csm.title ? { name: csm.name, email: csm.email, title: csm.title } : { name: csm.name, email: csm.email };
  }

  private plan(fields: ReadonlySet<SignalField>): SignalPlan {
    return signalPlan(fields, this.config.templates);
  }
}

/** Rows to context: pure, so tests and the console can build one from stored data. */
export function buildContext(
  contact: ContextContactRow,
  account: ContextAccountRow,
  signals: RenderSignals,
  csm: RenderContext['csm'],
  config: Pick<Config, 'sender' | 'defaults'>,
  now: Date,
): RenderContext {
  const traits = contact.traits ?? {};
  const firstName = typeof traits.firstName === 'string' ? traits.firstName : typeof traits.first_name === 'string' ? traits.first_name : undefined;
  const email = contact.email ?? '';
  const id = String(contact.id);
  const name = contact.name || email.split('@')[0] || contact.external_id;
  const locale = contact.locale || account.locale || config.defaults.locale;
  const timezone = contact.timezone || account.timezone || config.defaults.timezone;
  return {
    // Two literals rather than a conditional spread in one (a slow path in V8), with the keys in the same order.
    contact: firstName
      ? { id, externalId: contact.external_id, name, firstName, email, role: contact.role, locale, timezone, traits }
      : { id, externalId: contact.external_id, name, email, role: contact.role, locale, timezone, traits },
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
    now: isoTime(now),
  };
}
