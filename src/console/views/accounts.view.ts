import type { Problem } from '../../common/errors';
import { AccountFilter, BANDS, filterParams, PHASES, SORTS, UNASSIGNED } from '../accounts-filter';
import type { AccountListRow } from '../accounts-list.repository';
import { trendArrow } from '../charts';
import { html, queryString, SafeHtml } from '../html';
import { translateValue } from '../i18n';
import { bandBadge, day, errorList, layout, PageContext } from './layout';

export interface AccountsPageData {
  filter: AccountFilter;
  rows: AccountListRow[];
  next: string | null;
  isFirst: boolean;
  count: { count: number; capped: boolean };
  owners: string[];
  problems: Problem[];
}

const n = (v: string | null) => (v === null ? null : Number(v));

export function accountsPage(ctx: PageContext, d: AccountsPageData): SafeHtml {
  const { t } = ctx;
  const f = d.filter;
  const params = filterParams(f);
  const opt = (value: string, label: string, selected: boolean) => html`<option value="${value}" ${selected ? html`selected` : ''}>${label}</option>`;
  const form = html`<form class="filters" method="get" action="/console/accounts" id="account-filters">
  <label>${t('accounts.search')}<input type="search" name="q" value="${f.q ?? ''}"></label>
  <label>${t('accounts.phase')}<select name="phase">${opt('', t('common.any'), !f.phase)}${PHASES.map((p) => opt(p, t(`phase.${p}`), f.phase === p))}</select></label>
  <label>${t('accounts.band')}<select name="band">${opt('', t('common.any'), !f.band)}${BANDS.map((b) => opt(b, t(`band.${b}`), f.band === b))}</select></label>
  <label>${t('accounts.owner')}<select name="owner">${opt('', t('common.any'), !f.owner)}${opt(UNASSIGNED, t('accounts.unassigned'), f.owner === UNASSIGNED)}${d.owners.map((o) =>
    opt(o, o, f.owner === o),
  )}${f.owner && f.owner !== UNASSIGNED && !d.owners.includes(f.owner) ? opt(f.owner, f.owner, true) : ''}</select></label>
  <label title="${t('accounts.unengaged_help')}">${t('accounts.unengaged')}<input type="number" name="unengaged" min="1" max="3650" value="${f.unengagedDays ?? ''}" placeholder="14"></label>
  <label>${t('accounts.high_touch')}<select name="high_touch">${opt('', t('common.any'), f.highTouch === undefined)}${opt('yes', t('common.yes'), f.highTouch === true)}${opt(
    'no',
    t('common.no'),
    f.highTouch === false,
  )}</select></label>
  <label>${t('accounts.sort')}<select name="sort">${SORTS.map((s) => opt(s, t(`sort.${s}`), f.sort === s))}</select></label>
  <button type="submit">${t('common.filter')}</button>
  <a href="/console/accounts">${t('common.reset')}</a>
  <span class="spacer"></span>
  <a href="/console/accounts.csv${queryString(params)}" id="export-csv" download>${t('accounts.export')}</a>
</form>`;
  const rows = d.rows.map((r) => {
    const score = n(r.score);
    return html`<tr data-account="${r.external_id}">
  <td><a href="/console/accounts/${encodeURIComponent(r.external_id)}">${r.name || r.external_id}</a><div class="muted">${r.external_id}${r.high_touch ? html` · <strong>${t('accounts.high_touch')}</strong>` : ''}</div></td>
  <td class="num">${score === null ? '—' : score.toFixed(1)}</td>
  <td>${bandBadge(t, r.band)}</td>
  <td>${trendArrow(score, n(r.previous_score))}</td>
  <td>${translateValue(t, 'phase', r.phase)}</td>
  <td>${r.csm_owner ?? html`<span class="muted">${t('accounts.unassigned')}</span>`}</td>
  <td>${r.last_usage ?? html`<span class="muted">${t('common.never')}</span>`}</td>
  <td>${r.last_engagement ? day(r.last_engagement) : html`<span class="muted">${t('common.never')}</span>`}</td>
  <td class="num">${r.open_handoffs ? html`<a href="/console/handoffs?account=${encodeURIComponent(r.external_id)}">${r.open_handoffs}</a>` : '0'}</td>
  <td>${r.renewal_date ?? ''}</td>
</tr>`;
  });
  const pager = html`<div class="pager">
  <span id="match-count">${d.count.count.toLocaleString('en-US')}${d.count.capped ? '+' : ''}</span> ${t('common.matching')}
  ${d.isFirst ? '' : html`<a href="/console/accounts${queryString(params)}">${t('common.first')}</a>`}
  ${d.next ? html`<a href="/console/accounts${queryString({ ...params, after: d.next })}" id="next-page" rel="next">${t('common.next')} →</a>` : ''}
</div>`;
  return layout(
    ctx,
    'accounts',
    t('accounts.title'),
    html`${errorList(d.problems)}${form}${pager}
<table id="accounts-table">
<thead><tr><th>${t('accounts.name')}</th><th class="num">${t('accounts.health')}</th><th>${t('accounts.band')}</th><th>${t('accounts.trend')}</th><th>${t(
      'accounts.phase',
    )}</th><th>${t('accounts.owner')}</th><th>${t('accounts.last_usage')}</th><th>${t('accounts.last_engagement')}</th><th class="num">${t('accounts.open_handoffs')}</th><th>${t(
      'accounts.renewal',
    )}</th></tr></thead>
<tbody>${rows}</tbody>
</table>
${pager}`,
  );
}
