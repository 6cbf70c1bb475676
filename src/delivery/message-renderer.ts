/**
 * Rendering, as the dispatcher sees it: one outbox row in, subject and both parts out. The
 * implementation adapts the templates capability (compiled-template cache, per-recipient
 * Handlebars); keeping this seam small means the dispatcher never depends on its internals.
 */
export interface RenderInput {
  id: string;
  contactId: string;
  accountId: string | null;
  toEmail: string;
  template: string;
  /** Pinned at enqueue, or null to use the current version. */
  templateVersion: string | null;
  locale: string;
  category: 'marketing' | 'operational';
  context: Record<string, unknown>;
}

/** Links the dispatcher has already made for this message (signed). */
export interface MessageLinks {
  unsubscribeUrl: string;
}

export interface RenderedEmail {
  templateVersion: string;
  subject: string;
  html: string;
  text: string;
}

export abstract class MessageRenderer {
  abstract render(input: RenderInput, links: MessageLinks): Promise<RenderedEmail>;
}
