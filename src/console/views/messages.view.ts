import type { Problem } from '../../common/errors';
import type { MessageDetail, MessageEngagement, MessageLogRow } from '../messages-log.repository';
import { MessageFilter, STATUSES } from '../messages-filter';
import { html, queryString, SafeHtml } from '../html';
import { errorList, layout, PageContext, statusBadge, when } from './layout';

export interface MessagesPageData {
  filter: MessageFilter;
  rows: MessageLogRow[];
  next: string | null;
  isFirst: boolean;
  facets: { journeys: string[]; templates: string[] };
  problems: Problem[];
}

export function messagesPage(ctx: PageContext, d: MessagesPageData): SafeHtml {
  const { t } = ctx;
  const f = d.filter;
  const opt = (value: string, label: string, selected: boolean) => html`<option value="${value}" ${selected ? html`selected` : ''}>${label}</option>`;
  const params = { ...f } as Record<string, string | undefined>;
  return layout(
    ctx,
    'messages',
    t('messages.title'),
    html`${errorList(d.problems)}<form class="filters" method="get" action="/console/messages" id="message-filters">
  <label>${t('messages.recipient')}<input type="search" name="recipient" value="${f.recipient ?? ''}"></label>
  <label>${t('messages.account')}<input type="text" name="account" value="${f.account ?? ''}" placeholder="acc-…"></label>
  <label>${t('messages.journey')}<select name="journey">${opt('', t('common.any'), !f.journey)}${d.facets.journeys.map((j) => opt(j, j, f.journey === j))}</select></label>
  <label>${t('messages.template')}<select name="template">${opt('', t('common.any'), !f.template)}${d.facets.templates.map((j) => opt(j, j, f.template === j))}</select></label>
  <label>${t('messages.status')}<select name="status">${opt('', t('common.any'), !f.status)}${STATUSES.map((s) => opt(s, t(`status.${s}`), f.status === s))}</select></label>
  <label>${t('messages.from')}<input type="date" name="from" value="${f.from ?? ''}"></label>
  <label>${t('messages.to')}<input type="date" name="to" value="${f.to ?? ''}"></label>
  <button type="submit">${t('common.filter')}</button> <a href="/console/messages">${t('common.reset')}</a>
</form>
<table id="messages-table"><thead><tr><th>${t('messages.created')}</th><th>${t('messages.recipient')}</th><th>${t('messages.account')}</th><th>${t('messages.journey')}</th><th>${t(
      'messages.template',
    )}</th><th>${t('messages.status')}</th><th>${t('messages.reason')}</th><th class="num">${t('account.opens')}</th><th class="num">${t('account.clicks')}</th></tr></thead>
<tbody>${d.rows.map(
      (m) => html`<tr data-message="${m.id}"><td><a href="/console/messages/${m.id}">${when(m.created_at)}</a></td><td>${m.contact_name ?? ''}<div class="muted">${m.to_email}</div></td><td>${
        m.account_external_id ? html`<a href="/console/accounts/${encodeURIComponent(m.account_external_id)}">${m.account_name || m.account_external_id}</a>` : ''
      }</td><td>${m.journey_key ?? ''}${m.step_id ? html`<div class="muted">${m.step_id}</div>` : ''}</td><td>${m.template}</td><td>${statusBadge(t, m.status)}</td><td>${m.reason ?? ''}</td><td class="num">${
        m.opens
      }</td><td class="num">${m.clicks}</td></tr>`,
    )}</tbody></table>
<div class="pager">${d.isFirst ? '' : html`<a href="/console/messages${queryString(params)}">${t('common.first')}</a>`}${
      d.next ? html`<a id="next-page" href="/console/messages${queryString({ ...params, after: d.next })}">${t('common.next')} →</a>` : ''
    }</div>`,
  );
}

export interface RenderedPreview {
  ok: boolean;
  html?: string;
  text?: string;
  subject?: string;
  version?: string;
  reason?: string;
}

export function messagePage(ctx: PageContext, m: MessageDetail, engagement: MessageEngagement[], preview: RenderedPreview): SafeHtml {
  const { t } = ctx;
  return layout(
    ctx,
    'messages',
    m.subject ?? m.template,
    html`<div class="grid2"><section class="card"><dl class="facts" id="message-facts">
  <dt>${t('messages.status')}</dt><dd>${statusBadge(t, m.status)}${m.reason ? html` · <em class="reason">${m.reason}</em>` : ''}</dd>
  <dt>${t('messages.recipient')}</dt><dd>${m.contact_name ?? ''} &lt;${m.to_email}&gt;</dd>
  <dt>${t('messages.account')}</dt><dd>${m.account_external_id ? html`<a href="/console/accounts/${encodeURIComponent(m.account_external_id)}">${m.account_name || m.account_external_id}</a>` : ''}</dd>
  <dt>${t('messages.journey')}</dt><dd>${m.journey_key ?? ''}${m.step_id ? html` / ${m.step_id}` : ''}</dd>
  <dt>${t('messages.template')}</dt><dd>${m.template} ${m.template_version ? html`<span class="muted">(${m.template_version})</span>` : ''} · ${m.locale} · ${m.category}</dd>
  <dt>${t('messages.created')}</dt><dd>${when(m.created_at)}</dd>
  <dt>${t('messages.sent_at')}</dt><dd>${when(m.sent_at)}</dd>
  <dt>${t('messages.attempts')}</dt><dd>${m.attempts}</dd>
  ${m.last_error ? html`<dt>${t('messages.error')}</dt><dd>${m.last_error}</dd>` : ''}
  ${m.smtp_response ? html`<dt>SMTP</dt><dd>${m.smtp_response}</dd>` : ''}
</dl></section>
<section class="card"><h3>${t('messages.engagement')}</h3>
<table id="message-engagement"><tbody>${engagement.map(
      (e) => html`<tr><td>${when(e.occurred_at)}</td><td>${e.kind}${e.machine ? html`<span class="machine" title="${e.classification ?? ''}">${t('tl.bot')}</span>` : ''}</td><td class="muted">${
        e.url ?? ''
      } ${e.user_agent ?? ''}</td></tr>`,
    )}</tbody></table></section></div>
<section><h2>${t('messages.preview')}</h2>
${
  preview.ok
    ? html`<p class="muted">${t('messages.rendered_note', { version: preview.version ?? '' })}</p>
<p><strong>${t('messages.subject')}:</strong> <span id="preview-subject">${preview.subject ?? ''}</span></p>
<iframe class="email" id="email-preview" sandbox="" referrerpolicy="no-referrer" title="${t('messages.preview')}" srcdoc="${preview.html ?? ''}"></iframe>`
    : html`<p class="error-box" id="preview-unavailable">${t('messages.not_rendered', { reason: preview.reason ?? '' })}</p>`
}
<h3>${t('messages.context')}</h3><pre class="json" id="message-context">${JSON.stringify(m.context, null, 2)}</pre>
</section>`,
  );
}
