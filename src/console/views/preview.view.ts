import type { TemplatePreview } from '../email-preview';
import { DiagramStep, journeyDiagram } from '../journey-diagram';
import { html, SafeHtml } from '../html';
import { errorList, layout, PageContext } from './layout';

export interface PreviewPageData {
  contact?: string;
  contactError?: string;
  templateProblems: { path: string; message: string }[];
  journeyProblems: { path: string; message: string }[];
  renders: TemplatePreview[];
  journeys: { key: string; name: string; steps: DiagramStep[] }[];
}

export function previewPage(ctx: PageContext, d: PreviewPageData): SafeHtml {
  const { t } = ctx;
  const problems = [...d.templateProblems, ...d.journeyProblems];
  return layout(
    ctx,
    'preview',
    t('preview.title'),
    html`<form class="filters" method="get" action="/console/preview">
  <label>${t('preview.real')}<input name="contact" value="${d.contact ?? ''}" placeholder="contact id (u-…)"></label>
  <button type="submit">${t('common.filter')}</button> <a href="/console/preview">${t('preview.sample')}</a>
</form>
${d.contactError ? html`<p class="error-box">${d.contactError}</p>` : ''}
<section class="card" id="validation"><h2>${t('preview.problems')}</h2>${problems.length ? errorList(problems) : html`<p id="no-problems">${t('preview.ok')}</p>`}</section>
<h2>${t('nav.journeys')}</h2>
${d.journeys.map((j) => html`<section class="card" data-journey="${j.key}"><h3>${j.name} <span class="muted">(${j.key})</span></h3>${journeyDiagram(j.steps, {})}</section>`)}
<h2>${t('messages.template')}</h2>
${d.renders.map(
  (r) => html`<section class="card template-preview" data-template="${r.template}" data-locale="${r.locale}"><h3>${r.template} · ${r.locale}</h3>${
    r.error
      ? html`<p class="error-box">${r.error}</p>`
      : html`<p><strong>${t('messages.subject')}:</strong> <span class="subject">${r.subject}</span></p><iframe class="email" sandbox="" referrerpolicy="no-referrer" loading="lazy" title="${r.template} ${r.locale}" srcdoc="${r.html}"></iframe>`
  }</section>`,
)}`,
  );
}
