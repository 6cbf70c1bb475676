import { healthChart, trendArrow } from '../charts';
import type { AccountPageData } from '../console-accounts.service';
import { html, SafeHtml } from '../html';
import { translateValue, Translate } from '../i18n';
import type { TimelineItem } from '../timeline';
import { bandBadge, day, layout, PageContext, statusBadge, when } from './layout';

const n = (v: string | null) => (v === null ? null : Number(v));

function timelineItem(t: Translate, item: TimelineItem): SafeHtml {
  switch (item.kind) {
    case 'usage': {
      const u = item.usage;
      return html`<li class="k-usage"><span class="at">${u.day}</span><span class="kind">${t('tl.usage')}</span><span>${t('tl.usage_line', {
        events: u.events,
        features: u.features,
        users: u.users,
      })}${u.top ? html` <span class="muted">(${u.top})</span>` : ''}</span></li>`;
    }
    case 'message': {
      const m = item.message;
      return html`<li class="k-message"><span class="at">${when(m.at)}</span><span class="kind">${t('tl.message')}</span><span>${statusBadge(t, m.status)} <a href="/console/messages/${m.id}">${
        m.subject ?? m.template
      }</a> → ${m.contact_name ?? ''} &lt;${m.to_email}&gt;${m.journey_key ? html` · ${m.journey_key}${m.step_id ? html` / ${m.step_id}` : ''}` : ''}${
        m.reason ? html` · <em class="reason">${m.reason}</em>` : ''
      }</span></li>`;
    }
    case 'engagement': {
      const e = item.engagement;
      return html`<li class="k-engagement${e.machine ? ' machine-item' : ''}"><span class="at">${when(e.at)}</span><span class="kind">${t('tl.engagement')}</span><span>${e.kind}${e.machine ? html`<span class="machine" title="${e.classification ?? ''}">${t('tl.bot')}</span>` : ''} · ${e.contact_name ?? ''}${
        e.template ? html` · ${e.message_id ? html`<a href="/console/messages/${e.message_id}">${e.template}</a>` : e.template}` : ''
      }${e.url ? html` · <span class="muted">${e.url}</span>` : ''}</span></li>`;
    }
    case 'survey': {
      const s = item.survey;
      return html`<li class="k-survey"><span class="at">${when(s.at)}</span><span class="kind">${t('tl.survey')}</span><span><strong>${s.kind.toUpperCase()} ${s.score}</strong>${
        s.machine ? html`<span class="machine">${t('tl.bot')}</span>` : ''
      } · ${s.contact_name ?? ''}${s.template ? html` · <a href="/console/messages/${s.message_id}">${s.template}</a>` : ''}${s.comment ? html` · “${s.comment}”` : ''}</span></li>`;
    }
    case 'handoff': {
      const h = item.handoff;
      return html`<li class="k-handoff"><span class="at">${when(h.at)}</span><span class="kind">${t('tl.handoff')}</span><span><a href="/console/handoffs?status=all#handoff-${h.id}">${
        h.reason
      }</a> · ${t(`handoffs.status.${h.status}` as Parameters<Translate>[0])}${h.assignee ? html` · ${h.assignee}` : ''}${h.outcome ? html` · ${h.outcome}` : ''}</span></li>`;
    }
    case 'enrollment': {
      const j = item.enrollment;
      return html`<li class="k-enrollment"><span class="at">${when(item.at)}</span><span class="kind">${t('tl.enrollment')}</span><span><a href="/console/journeys/${encodeURIComponent(
        j.journey_key,
      )}">${j.journey_key}</a> · ${j.event}${j.step_id ? html` · ${j.step_id}` : ''}${j.contact_name ? html` · ${j.contact_name}` : ''}${j.detail ? html` · <span class="muted">${j.detail}</span>` : ''}</span></li>`;
    }
  }
}

export function accountPage(ctx: PageContext, d: AccountPageData): SafeHtml {
  const { t } = ctx;
  const a = d.account;
  const score = n(a.score);
  const windows = [7, 14, 30, 60, 90, 180].map(
    (w, i) => html`${i ? ' · ' : ''}${w === d.days ? html`<strong>${w}</strong>` : html`<a href="/console/accounts/${encodeURIComponent(a.external_id)}?days=${w}">${w}</a>`}`,
  );
  const kinds = ['usage', 'message', 'engagement', 'survey', 'handoff', 'enrollment'] as const;
  const kindLabel = { usage: t('tl.usage'), message: t('tl.message'), engagement: t('tl.engagement'), survey: t('tl.survey'), handoff: t('tl.handoff'), enrollment: t('tl.enrollment') };
  return layout(
    ctx,
    'accounts',
    a.name || a.external_id,
    html`<div class="grid2">
<section class="card">
  <h2>${t('account.health_trend')} ${score === null ? '' : html`<span id="health-score">${score.toFixed(1)}</span>`} ${bandBadge(t, a.band)} ${trendArrow(score, n(a.previous_score))}</h2>
  ${d.points.length ? healthChart(d.points, { label: t('account.health_trend') }) : html`<p class="muted">${t('account.no_history')}</p>`}
  ${
    d.movers.length
      ? html`<h3>${t('account.movers')} <span class="muted">(${d.moversFrom} →)</span></h3>
  <table id="movers"><thead><tr><th>${t('account.component')}</th><th class="num">${d.moversFrom}</th><th class="num">${t('account.contribution')}</th><th class="num">${t(
    'account.change',
  )}</th></tr></thead>
  <tbody>${d.movers.map(
    (m) =>
      html`<tr><td>${m.name}${m.valueAfter !== null ? html` <span class="muted">(${m.valueBefore ?? '—'} → ${m.valueAfter})</span>` : ''}</td><td class="num">${
        m.before?.toFixed(2) ?? '—'
      }</td><td class="num">${m.after?.toFixed(2) ?? '—'}</td><td class="num ${m.change > 0 ? 'trend up' : m.change < 0 ? 'trend down' : ''}">${m.change > 0 ? '+' : ''}${m.change.toFixed(2)}</td></tr>`,
  )}</tbody></table>`
      : ''
  }
</section>
<section class="card">
  <dl class="facts">
    <dt>ID</dt><dd>${a.external_id}</dd>
    <dt>${t('accounts.phase')}</dt><dd>${translateValue(t, 'phase', a.phase)}</dd>
    <dt>${t('accounts.plan')}</dt><dd>${a.plan ?? ''}</dd>
    <dt>${t('accounts.mrr')}</dt><dd>${a.mrr ?? ''}</dd>
    <dt>${t('accounts.seats')}</dt><dd>${a.seats ?? ''}</dd>
    <dt>${t('accounts.owner')}</dt><dd>${a.csm_owner ?? t('accounts.unassigned')}</dd>
    <dt>${t('accounts.high_touch')}</dt><dd>${a.high_touch ? t('common.yes') : t('common.no')}</dd>
    <dt>${t('accounts.renewal')}</dt><dd>${a.renewal_date ?? ''}</dd>
  </dl>
</section>
</div>
<section>
  <h2>${t('account.timeline')} <span class="muted">· ${t('account.window')}: ${windows} ${t('common.days')}</span></h2>
  <div class="tl-filter">${kinds.map((k) => html`<label><input type="checkbox" value="${k}" checked> ${kindLabel[k]}</label>`)}</div>
  ${d.timeline.length ? html`<ol class="timeline" id="timeline">${d.timeline.map((i) => timelineItem(t, i))}</ol>` : html`<p class="muted" id="timeline">${t('tl.empty')}</p>`}
  ${d.truncated ? html`<p class="muted">${t('tl.truncated')}</p>` : ''}
</section>
<section>
  <h2>${t('account.contacts')}</h2>
  <table id="contacts"><thead><tr><th>${t('messages.recipient')}</th><th>${t('account.email')}</th><th>${t('account.role')}</th><th class="num">${t('account.sent')}</th><th class="num">${t(
    'account.opens',
  )}</th><th class="num">${t('account.clicks')}</th><th class="num">${t('account.machine')}</th><th>${t('accounts.last_engagement')}</th><th>${t('account.suppressed')}</th></tr></thead>
  <tbody>${d.contacts.map(
    (c) =>
      html`<tr><td>${c.name ?? c.external_id}</td><td>${c.email ? html`<a href="/console/messages?recipient=${encodeURIComponent(c.email)}">${c.email}</a>` : ''}</td><td>${c.role ?? ''}</td><td class="num">${
        c.sent
      }</td><td class="num">${c.opens}</td><td class="num">${c.clicks}</td><td class="num">${c.machine}</td><td>${day(c.last_engagement)}</td><td>${c.suppressed ?? ''}</td></tr>`,
  )}</tbody></table>
</section>`,
  );
}
