import { html, SafeHtml } from '../html';
import { errorList, layout, PageContext } from './layout';

export interface PreviewPageData {
  available: boolean;
  problems: { path: string; message: string }[];
  renders: { template: string; locale: string; subject: string; html: string; error?: string }[];
}

export function previewPage(ctx: PageContext, d: PreviewPageData): SafeHtml {
  const { t } = ctx;
  if (!d.available) return layout(ctx, 'preview', t('preview.title'), html`<p class="error-box" id="preview-unavailable">${t('preview.unavailable')}</p>`);
  return layout(
    ctx,
    'preview',
    t('preview.title'),
    html`<section class="card"><h2>${t('preview.problems')}</h2>${d.problems.length ? errorList(d.problems) : html`<p>${t('preview.ok')}</p>`}</section>
${d.renders.map(
  (r) => html`<section class="card" data-template="${r.template}" data-locale="${r.locale}"><h3>${r.template} · ${r.locale}</h3>${
    r.error ? html`<p class="error-box">${r.error}</p>` : html`<p><strong>${t('messages.subject')}:</strong> ${r.subject}</p><iframe class="email" sandbox="" srcdoc="${r.html}"></iframe>`
  }</section>`,
)}`,
  );
}
