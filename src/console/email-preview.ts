import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { PreviewLinkBuilder } from '../templates/links';
import { PreviewService } from '../templates/preview.service';
import type { RenderContext } from '../templates/render-context';
import { TemplatesService } from '../templates/templates.service';
import type { MessageDetail } from './messages-log.repository';
import type { RenderedPreview } from './views/messages.view';

export interface TemplatePreview {
  template: string;
  locale: string;
  subject: string;
  html: string;
  error?: string;
}

/**
 * Emails as recipients saw them, and authors' previews. Links are plain preview links (never
 * tracking links), so looking at an email in the console records no open or click.
 */
@Injectable()
export class EmailPreview {
  constructor(
    private readonly templates: TemplatesService,
    private readonly previews: PreviewService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private links(recipient: string): PreviewLinkBuilder {
    return new PreviewLinkBuilder(`${this.config.publicUrl}/console/preview`, recipient);
  }

  /** Re-rendered from the recorded template version and context (what was sent, not today's files). */
  async render(message: MessageDetail): Promise<RenderedPreview> {
    if (!message.template_version) return { ok: false, reason: 'no template version was recorded for this message' };
    try {
      const email = await this.templates.renderVersion(message.template_version, message.locale, message.context as unknown as RenderContext, this.links(message.contact_external_id ?? 'recipient'));
      return { ok: true, html: email.html, text: email.text, subject: email.subject, version: email.version };
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Every template in each of its locales, with sample data or a real contact's data. */
  async all(contact?: string): Promise<{ renders: TemplatePreview[]; problems: { path: string; message: string }[] }> {
    const [names, problems] = await Promise.all([this.templates.names(), this.templates.validate()]);
    const renders: TemplatePreview[] = [];
    for (const name of names) {
      let locales: string[];
      try {
        locales = (await this.templates.info(name)).locales;
      } catch (err) {
        renders.push({ template: name, locale: '', subject: '', html: '', error: err instanceof Error ? err.message : String(err) });
        continue;
      }
      for (const locale of locales) {
        try {
          const email = await this.previews.preview({ name, locale, contact });
          renders.push({ template: name, locale, subject: email.subject, html: email.html });
        } catch (err) {
          renders.push({ template: name, locale, subject: '', html: '', error: err instanceof Error ? err.message : String(err) });
        }
      }
    }
    return { renders, problems };
  }
}
