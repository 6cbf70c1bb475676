import { Injectable } from '@nestjs/common';
import { AccountsRepository } from '../accounts/accounts.repository';
import { NotFound } from '../common/errors';
import { PreviewLinkBuilder } from './links';
import { RenderContextBuilder } from './render-context.builder';
import { RenderedEmail } from './template-engine';
import { TemplatesService } from './templates.service';

export interface PreviewRequest {
  name: string;
  locale?: string;
  /** A contact's external id: render with that person's real data. Without it, sample data. */
  contact?: string;
}

/** Renders a template for a marketer to look at, with plain (unsigned) links. Writes nothing. */
@Injectable()
export class PreviewService {
  constructor(
    private readonly templates: TemplatesService,
    private readonly contexts: RenderContextBuilder,
    private readonly accounts: AccountsRepository,
  ) {}

  async preview(req: PreviewRequest): Promise<RenderedEmail> {
    let context;
    if (req.contact) {
      const contact = await this.accounts.contactByExternalId(req.contact);
      if (!contact) throw new NotFound(`contact "${req.contact}" not found`);
      context = await this.contexts.forRecipient(contact.id);
    } else {
      context = this.templates.sample(req.locale ?? 'ja', true);
    }
    const locale = req.locale ?? context.contact.locale;
    return this.templates.engine.render(req.name, locale, context, new PreviewLinkBuilder(undefined, context.contact.externalId));
  }
}
