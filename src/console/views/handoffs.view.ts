import type { HandoffRow } from '../handoffs-inbox.repository';
import { ALLOWED_FROM, OUTCOMES } from '../handoff-actions';
import { html, queryString, SafeHtml } from '../html';
import type { Translate } from '../i18n';
import { csrfField, layout, PageContext, when } from './layout';

export interface HandoffsPageData {
  status: string;
  assignee?: string;
  account?: string;
  rows: HandoffRow[];
  next: string | null;
  assignees: string[];
  flash?: string;
  error?: string;
}

function signalList(signals: Record<string, unknown>): SafeHtml {
  const entries = Object.entries(signals ?? {});
  if (!entries.length) return html`<span class="muted">—</span>`;
  return html`<dl class="facts signals">${entries.map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>`)}</dl>`;
}

function actions(ctx: PageContext, h: HandoffRow, back: string): SafeHtml {
  const { t } = ctx;
  const form = (action: string, inner: SafeHtml, cls = '') =>
    html`<form method="post" action="/console/handoffs/${h.id}" class="inline ${cls}">${csrfField(ctx)}<input type="hidden" name="action" value="${action}"><input type="hidden" name="back" value="${back}">${inner}</form>`;
  const out: SafeHtml[] = [];
  if (ALLOWED_FROM.assign.includes(h.status))
    out.push(form('assign', html`<input name="assignee" size="10" value="${h.assignee ?? ''}" aria-label="${t('handoffs.assignee')}"> <button class="secondary" type="submit">${t('handoffs.assign')}</button>`));
  if (ALLOWED_FROM.acknowledge.includes(h.status)) out.push(form('acknowledge', html`<button type="submit" class="ack">${t('handoffs.acknowledge')}</button>`));
  if (ALLOWED_FROM.close.includes(h.status))
    out.push(
      form(
        'close',
        html`<input name="outcome" list="outcomes" size="14" placeholder="${t('handoffs.outcome')}" aria-label="${t('handoffs.outcome')}"> <button type="submit" class="close">${t('handoffs.close')}</button>`,
      ),
    );
  return html`<div class="actions">${out}</div>`;
}

export function handoffsPage(ctx: PageContext, d: HandoffsPageData): SafeHtml {
  const { t } = ctx;
  const statuses = ['active', 'open', 'acknowledged', 'closed', 'all'];
  const label = (s: string) => (s === 'active' ? `${t('handoffs.status.open')} + ${t('handoffs.status.acknowledged')}` : s === 'all' ? t('common.all') : t(`handoffs.status.${s}` as Parameters<Translate>[0]));
  const base = { status: d.status === 'active' ? undefined : d.status, assignee: d.assignee, account: d.account };
  return layout(
    ctx,
    'handoffs',
    t('handoffs.title'),
    html`${d.flash ? html`<div class="flash" id="flash">${d.flash}</div>` : ''}${d.error ? html`<div class="error-box" id="action-error">${d.error}</div>` : ''}
<form class="filters" method="get" action="/console/handoffs">
  <label>${t('handoffs.status')}<select name="status" data-autosubmit>${statuses.map((s) => html`<option value="${s}" ${d.status === s ? html`selected` : ''}>${label(s)}</option>`)}</select></label>
  <label>${t('handoffs.assignee')}<select name="assignee" data-autosubmit><option value="">${t('common.any')}</option>${d.assignees.map(
    (a) => html`<option value="${a}" ${d.assignee === a ? html`selected` : ''}>${a}</option>`,
  )}</select></label>
  <label>${t('messages.account')}<input name="account" value="${d.account ?? ''}"></label>
  ${ctx.user?.name ? html`<a href="/console/handoffs${queryString({ assignee: ctx.user.name })}">${t('handoffs.mine')}</a>` : ''}
  <button type="submit">${t('common.filter')}</button>
</form>
<datalist id="outcomes">${OUTCOMES.map((o) => html`<option value="${o}">`)}</datalist>
${
  d.rows.length
    ? html`<table id="handoffs-table"><thead><tr><th>${t('handoffs.created')}</th><th>${t('messages.account')}</th><th>${t('handoffs.reason')}</th><th>${t('handoffs.signals')}</th><th>${t(
        'handoffs.status',
      )}</th><th>${t('handoffs.assignee')}</th><th></th></tr></thead><tbody>${d.rows.map(
        (h) => html`<tr id="handoff-${h.id}" data-status="${h.status}"><td>${when(h.created_at)}<div class="muted">${h.journey_key ?? ''}${h.step_id ? html` / ${h.step_id}` : ''}</div></td>
<td><a href="/console/accounts/${encodeURIComponent(h.account_external_id)}">${h.account_name || h.account_external_id}</a>${
          h.contact_name ? html`<div class="muted">${h.contact_name} ${h.contact_email ?? ''}</div>` : ''
        }<div class="muted">CSM: ${h.csm_owner ?? '—'}</div></td>
<td>${h.reason}</td><td>${signalList(h.signals)}</td>
<td class="status-cell">${t(`handoffs.status.${h.status}` as Parameters<Translate>[0])}${h.outcome ? html`<div class="muted">${t('handoffs.outcome')}: ${h.outcome}</div>` : ''}<div class="muted">${t(
          'handoffs.webhook',
        )}: ${h.webhook_status}</div></td>
<td>${h.assignee ?? ''}</td><td>${actions(ctx, h, ctx.here)}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted" id="handoffs-empty">${t('handoffs.empty')}</p>`
}
${d.next ? html`<div class="pager"><a id="next-page" href="/console/handoffs${queryString({ ...base, before: d.next })}">${t('common.next')} →</a></div>` : ''}`,
  );
}
