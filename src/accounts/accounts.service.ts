import { Injectable } from '@nestjs/common';
import { NotFound } from '../common/errors';
import { SignalsService } from '../signals/signals.service';
import { AccountsRepository } from './accounts.repository';

@Injectable()
export class AccountsService {
  constructor(
    private readonly repo: AccountsRepository,
    private readonly signals: SignalsService,
  ) {}

  async accountDetail(externalId: string) {
    const account = await this.repo.accountByExternalId(externalId);
    if (!account) throw new NotFound(`no account with external id "${externalId}"`);
    const [contacts, signals] = await Promise.all([this.repo.contactsOfAccount(account.id), this.signals.summary('account', account.id)]);
    return { account, contacts, signals };
  }

  async contactDetail(externalId: string) {
    const contact = await this.repo.contactByExternalId(externalId);
    if (!contact) throw new NotFound(`no contact with external id "${externalId}"`);
    return { contact, signals: await this.signals.summary('contact', contact.id) };
  }
}
