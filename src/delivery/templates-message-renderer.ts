import { Injectable } from '@nestjs/common';
import type { RenderContext } from '../templates/render-context';
import { TemplatesService } from '../templates/templates.service';
import { LinkBuilderFactory } from '../tracking/link-builder';
import { MessageLinks, MessageRenderer, RenderedEmail, RenderInput } from './message-renderer';

/**
 * The dispatcher's renderer: the templates capability (compiled once per content hash,
 * Handlebars per recipient) with tracking's signed links for this message and recipient.
 * A message pinned to a template version is rendered from that stored version exactly.
 */
@Injectable()
export class TemplatesMessageRenderer extends MessageRenderer {
  constructor(
    private readonly templates: TemplatesService,
    private readonly links: LinkBuilderFactory,
  ) {
    super();
  }

  async render(input: RenderInput, links: MessageLinks): Promise<RenderedEmail> {
    const builder = this.links.forMessage(input.id, input.contactId);
    // The dispatcher has signed this message's unsubscribe token already (for List-Unsubscribe):
    // the body links to that same URL (the builder would sign the same payload again).
    builder.unsubscribe = () => links.unsubscribeUrl;
    const context = input.context as unknown as RenderContext;
    const r = input.templateVersion
      ? await this.templates.renderVersion(input.templateVersion, input.locale, context, builder)
      : await this.templates.render(input.template, input.locale, context, builder);
    return { templateVersion: r.version, subject: r.subject, html: r.html, text: r.text };
  }
}
