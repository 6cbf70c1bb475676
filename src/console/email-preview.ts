import { Injectable } from '@nestjs/common';
import type { MessageDetail } from './messages-log.repository';
import type { RenderedPreview } from './views/messages.view';

/**
 * Re-renders a recorded message as its recipient saw it (template version + recorded
 * context). Backed by the templates capability's renderVersion once it is merged; until then
 * it reports that it cannot render rather than showing something that was not sent.
 */
@Injectable()
export class EmailPreview {
  async render(message: MessageDetail): Promise<RenderedPreview> {
    void message;
    return { ok: false, reason: 'the template renderer is not part of this build yet' };
  }

  available(): boolean {
    return false;
  }
}
