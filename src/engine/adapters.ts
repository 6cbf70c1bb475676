import { Injectable } from '@nestjs/common';
import type { ContextNeeds } from '../templates/context-subset';
export { ALL_CONTEXT, type ContextNeeds } from '../templates/context-subset';
import { RenderContextBuilder } from '../templates/render-context.builder';
import { TemplatesService } from '../templates/templates.service';

/**
 * Side effects and outside knowledge the engine needs, behind injectable adapters so tests
 * (and the lead, when templates/delivery land) can swap them.
 */

/** Which templates exist now (a send to a template removed after an edit fails and is retried). */
export abstract class TemplateCatalog {
  abstract names(): Promise<ReadonlySet<string>>;
  /**
   * The current version of a template for the messages of a send to pin (stored before they
   * exist), and what their render context must hold; an Error when it cannot be pinned now
   * (a template with errors: its messages go unpinned with the whole context, as the dispatcher
   * renders the current version at send time, or puts it to review).
   */
  abstract pin(name: string): Promise<PinnedTemplate | Error>;
}

export interface PinnedTemplate {
  version: string;
  needs: ContextNeeds;
}

/** The templates capability's own list (TemplatesService.names(), which follows the files). */
@Injectable()
export class TemplatesServiceCatalog extends TemplateCatalog {
  constructor(private readonly templates: TemplatesService) {
    super();
  }

  async names(): Promise<ReadonlySet<string>> {
    return new Set(await this.templates.names());
  }

  pin(name: string): Promise<PinnedTemplate | Error> {
    return this.templates.pin(name).catch((err) => (err instanceof Error ? err : new Error(String(err))));
  }
}

/** The render context stored with each outbox message (what the template is rendered with). */
export abstract class RenderContextSource {
  /** Each send's context holding what `needs` names (ALL_CONTEXT: the whole standard context), keyed by `key`; an Error where it cannot be built. */
  abstract forSends(sends: { key: string; contactId: string; accountId: string; needs: ContextNeeds }[]): Promise<Map<string, unknown>>;
  /** The hand-off webhook of a CSM in the team directory (`team.yaml`), if it names one. */
  abstract csmWebhook(csmId: string): string | undefined;
}

@Injectable()
export class TemplatesRenderContextSource extends RenderContextSource {
  constructor(private readonly builder: RenderContextBuilder) {
    super();
  }

  forSends(sends: { key: string; contactId: string; accountId: string; needs: ContextNeeds }[]): Promise<Map<string, unknown>> {
    return this.builder.forSends(sends);
  }

  csmWebhook(csmId: string): string | undefined {
    return this.builder.teamDirectory().csms.get(csmId)?.webhook;
  }
}

export interface HttpResponse {
  status: number;
  body: string;
}

/** Outbound HTTP for hand-off webhooks. */
export abstract class HttpClient {
  abstract post(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<HttpResponse>;
}

@Injectable()
export class FetchHttpClient extends HttpClient {
  async post(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<HttpResponse> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: (await res.text()).slice(0, 500) };
  }
}
