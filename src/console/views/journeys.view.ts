import { funnelBars } from '../charts';
import { DiagramStep, journeyDiagram } from '../journey-diagram';
import type { HeldBackRow, JourneySummaryRow, MessageFunnel, TemplateEngagementRow } from '../journeys-report.repository';
import { html, SafeHtml } from '../html';
import { Comparison, percent } from '../stats';
import { layout, PageContext, statusBadge, when } from './layout';

export function journeysPage(ctx: PageContext, rows: JourneySummaryRow[], asOf: Date | null): SafeHtml {
  const { t } = ctx;
  return layout(
    ctx,
    'journeys',
    t('journeys.title'),
    rows.length
      ? html`${asOfNote(ctx, asOf)}<table id="journeys-table"><thead><tr><th>${t('messages.journey')}</th><th class="num">${t('journeys.messages')}</th><th class="num">${t('journeys.sent')}</th><th class="num">${t(
          'status.capped',
        )} / ${t('status.deferred')} / ${t('status.suppressed')}</th><th>${t('messages.created')}</th></tr></thead><tbody>${rows.map(
          (r) => html`<tr><td><a href="/console/journeys/${encodeURIComponent(r.journey_key)}">${r.journey_key}</a></td><td class="num">${r.messages}</td><td class="num">${r.sent}</td><td class="num">${
            r.held_back
          }</td><td>${r.last_day ?? ''}</td></tr>`,
        )}</tbody></table>`
      : html`<p class="muted">${t('journeys.none')}</p>`,
  );
}

function asOfNote(ctx: PageContext, asOf: Date | null): SafeHtml {
  return html`<p class="muted" id="as-of">${ctx.t('journeys.as_of')}: ${asOf ? when(asOf) : ctx.t('journeys.not_yet')}</p>`;
}

export interface JourneyReport {
  key: string;
  asOf: Date | null;
  steps: DiagramStep[] | null;
  stepCounts: Record<string, number>;
  entered: number | null;
  goal: number | null;
  funnel: MessageFunnel;
  effect: Comparison | null;
  arms: { arm: string; comparison: Comparison }[];
  templates: TemplateEngagementRow[];
  heldBack: HeldBackRow[];
}

function comparisonRow(ctx: PageContext, label: string, c: Comparison): SafeHtml {
  const { t } = ctx;
  return html`<tr><td>${label}</td><td class="num">${c.treated.successes} / ${c.treated.total} (${percent(c.treated.rate)})</td><td class="num">${c.control.successes} / ${c.control.total} (${percent(
    c.control.rate,
  )})</td><td class="num difference">${c.difference === null ? '—' : `${c.difference >= 0 ? '+' : ''}${(c.difference * 100).toFixed(1)} pt`}</td><td class="num ci">${
    c.ci ? `${(c.ci.low * 100).toFixed(1)} … ${(c.ci.high * 100).toFixed(1)} pt` : '—'
  }</td><td>${c.ci ? (c.significant ? t('journeys.significant') : t('journeys.not_significant')) : ''}</td></tr>`;
}

export function journeyPage(ctx: PageContext, r: JourneyReport): SafeHtml {
  const { t } = ctx;
  const rate = (a: number, b: number) => (b ? percent(a / b) : '—');
  return layout(
    ctx,
    'journeys',
    r.key,
    html`${asOfNote(ctx, r.asOf)}<section class="card"><h2>${t('journeys.definition')} · ${t('journeys.step_counts')}</h2>
${r.steps ? journeyDiagram(r.steps, r.stepCounts) : html`<p class="muted">${t('journeys.no_definition')}</p>`}</section>
<div class="grid2">
<section class="card"><h2>${t('journeys.funnel')}</h2>
${funnelBars([
  { label: t('journeys.entered'), value: r.entered },
  { label: t('journeys.sent'), value: r.funnel.sent },
  { label: t('journeys.opened'), value: r.funnel.opened },
  { label: t('journeys.clicked'), value: r.funnel.clicked },
  { label: t('journeys.goal'), value: r.goal },
])}
${r.entered === null ? html`<p class="muted">${t('journeys.no_enrollments')}</p>` : ''}
</section>
<section class="card"><h2>${t('journeys.held_back')}</h2>
<table id="held-back"><tbody>${r.heldBack.map((h) => html`<tr><td>${statusBadge(t, h.status)}</td><td>${h.reason ?? ''}</td><td class="num">${h.count}</td></tr>`)}</tbody></table>
</section></div>
<section class="card"><h2>${t('journeys.effect')}</h2>
${
  r.effect
    ? html`<table id="effect"><thead><tr><th>${t('journeys.arm')}</th><th class="num">${t('journeys.treated')}</th><th class="num">${t('journeys.holdout')}</th><th class="num">${t(
        'journeys.difference',
      )}</th><th class="num">${t('journeys.ci')}</th><th></th></tr></thead><tbody>${comparisonRow(ctx, t('common.all'), r.effect)}${r.arms.map((a) =>
        comparisonRow(ctx, a.arm, a.comparison),
      )}</tbody></table>`
    : html`<p class="muted">${t('journeys.no_enrollments')}</p>`
}
</section>
<section class="card"><h2>${t('journeys.per_template')}</h2>
<table id="per-template"><thead><tr><th>${t('messages.template')}</th><th>locale</th><th class="num">${t('journeys.sent')}</th><th class="num">${t('journeys.opened')}</th><th class="num">${t(
      'journeys.unique_open_rate',
    )}</th><th class="num">${t('journeys.clicked')}</th><th class="num">${t('journeys.click_rate')}</th><th class="num">${t('account.machine')}</th></tr></thead>
<tbody>${r.templates.map(
      (x) => html`<tr data-template="${x.template}"><td>${x.template}</td><td>${x.locale}</td><td class="num">${x.sent}</td><td class="num">${x.opened}</td><td class="num">${rate(
        x.opened,
        x.sent,
      )}</td><td class="num">${x.clicked}</td><td class="num">${rate(x.clicked, x.sent)}</td><td class="num">${x.machine_only}</td></tr>`,
    )}</tbody></table></section>`,
  );
}
