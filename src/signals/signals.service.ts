import { Injectable } from '@nestjs/common';
import { Clock, utcDay } from '../common/clock';
import { Signal, signalName, SubjectKind } from './signal';
import { SignalsRepository, SignalValues } from './signals.repository';

export interface SignalSummary {
  asOf: string;
  signals: Record<string, number | null>;
}

@Injectable()
export class SignalsService {
  constructor(
    private readonly repo: SignalsRepository,
    private readonly clock: Clock,
  ) {}

  /** Signal values for many subjects at once (one statement). Missing subjects are absent. */
  evaluate(subject: SubjectKind, ids: string[], signals: Signal[], asOf: Date = this.clock.now()): Promise<Map<string, SignalValues>> {
    return this.repo.evaluate(subject, ids, signals, utcDay(asOf));
  }

  async forAccount(accountId: string, signals: Signal[], asOf?: Date): Promise<SignalValues | undefined> {
    return (await this.evaluate('account', [accountId], signals, asOf)).get(accountId);
  }

  async forContact(contactId: string, signals: Signal[], asOf?: Date): Promise<SignalValues | undefined> {
    return (await this.evaluate('contact', [contactId], signals, asOf)).get(contactId);
  }

  /** A readable overview: each recent event's counts and recency, activity and contract dates. */
  async summary(subject: SubjectKind, id: string, asOf: Date = this.clock.now()): Promise<SignalSummary | undefined> {
    const today = utcDay(asOf);
    const events = await this.repo.recentEvents(subject, id, 90, today);
    const signals: Signal[] = [];
    for (const event of events) {
      signals.push({ kind: 'event_count', event, days: 7 }, { kind: 'event_count', event, days: 30 }, { kind: 'days_since_last', event });
    }
    signals.push({ kind: 'distinct_events', days: 30 });
    if (subject === 'account') signals.push({ kind: 'active_contacts', days: 7 }, { kind: 'active_contacts', days: 30 });
    signals.push({ kind: 'days_since_contract_start' }, { kind: 'days_until_renewal' });
    const values = (await this.repo.evaluate(subject, [id], signals, today)).get(id);
    if (!values) return undefined;
    return { asOf: today, signals: Object.fromEntries(signals.map((s, i) => [signalName(s), values[i]])) };
  }

  knownEventNames(): Promise<string[]> {
    return this.repo.knownEventNames();
  }
}
