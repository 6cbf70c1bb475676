import { html, raw, SafeHtml } from './html';

/** Server-drawn SVG charts: no chart library, nothing fetched by the browser. */
export interface ScorePoint {
  day: string;
  score: number;
  band: string;
}

const BAND_COLOR: Record<string, string> = { green: '#2e7d32', yellow: '#c99a00', red: '#c62828' };

const r1 = (n: number) => Math.round(n * 10) / 10;

/** A line chart of daily health scores (0–100) with band-coloured points and day labels. */
export function healthChart(points: ScorePoint[], opts: { width?: number; height?: number; label: string }): SafeHtml {
  const width = opts.width ?? 720;
  const height = opts.height ?? 220;
  const pad = { left: 36, right: 12, top: 12, bottom: 28 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const x = (i: number) => pad.left + (points.length <= 1 ? w / 2 : (i * w) / (points.length - 1));
  const y = (score: number) => pad.top + h - (Math.max(0, Math.min(100, score)) / 100) * h;
  const grid = [0, 25, 50, 75, 100].map(
    (v) => html`<line x1="${pad.left}" x2="${pad.left + w}" y1="${r1(y(v))}" y2="${r1(y(v))}" class="grid"/><text x="${pad.left - 6}" y="${r1(y(v)) + 4}" text-anchor="end" class="axis">${v}</text>`,
  );
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${r1(x(i))},${r1(y(p.score))}`).join(' ');
  const dots = points.map(
    (p, i) =>
      html`<circle cx="${r1(x(i))}" cy="${r1(y(p.score))}" r="${points.length > 60 ? 2 : 3.5}" fill="${BAND_COLOR[p.band] ?? '#555'}" data-day="${p.day}" data-score="${p.score}"><title>${p.day}: ${p.score} (${p.band})</title></circle>`,
  );
  const labelIdx = points.length > 1 ? [0, Math.floor((points.length - 1) / 2), points.length - 1] : points.length ? [0] : [];
  // The first and last labels hang inwards so they are not clipped at the edges.
  const anchor = (i: number) => (points.length > 1 && i === 0 ? 'start' : points.length > 1 && i === points.length - 1 ? 'end' : 'middle');
  const labels = [...new Set(labelIdx)].map((i) => html`<text x="${r1(x(i))}" y="${height - 8}" text-anchor="${anchor(i)}" class="axis">${points[i].day}</text>`);
  return html`<svg class="chart" role="img" aria-label="${opts.label}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMidYMid meet" data-points="${points.length}">${grid}${
    points.length > 1 ? html`<path d="${path}" class="line" fill="none"/>` : ''
  }${dots}${labels}</svg>`;
}

export interface ComponentResult {
  value?: number | null;
  points?: number | null;
  weight?: number;
  contribution?: number;
}

export interface Mover {
  name: string;
  before: number | null;
  after: number | null;
  change: number;
  valueBefore: number | null;
  valueAfter: number | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : null);

/**
 * Which components moved the score between two snapshots: the change of each component's
 * contribution (points it adds to the score), biggest first. Components missing on one side
 * count as contributing 0 there.
 */
export function scoreMovers(before: Record<string, ComponentResult> | null | undefined, after: Record<string, ComponentResult> | null | undefined): Mover[] {
  const names = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const out: Mover[] = [];
  for (const name of names) {
    const b = before?.[name];
    const a = after?.[name];
    const cb = num(b?.contribution);
    const ca = num(a?.contribution);
    out.push({
      name,
      before: cb,
      after: ca,
      change: Math.round(((ca ?? 0) - (cb ?? 0)) * 100) / 100,
      valueBefore: num(b?.value),
      valueAfter: num(a?.value),
    });
  }
  return out.sort((p, q) => Math.abs(q.change) - Math.abs(p.change) || p.name.localeCompare(q.name));
}

/** Horizontal bars for a funnel (each stage as a share of the first). */
export function funnelBars(stages: { label: string; value: number | null }[]): SafeHtml {
  const top = Math.max(1, ...stages.map((s) => s.value ?? 0));
  return html`<div class="funnel">${stages.map(
    (s) =>
      html`<div class="funnel-row"><span class="funnel-label">${s.label}</span><span class="funnel-bar"><span style="width:${
        s.value === null ? 0 : r1((100 * s.value) / top)
      }%"></span></span><span class="funnel-value">${s.value === null ? '—' : s.value.toLocaleString('en-US')}</span></div>`,
  )}</div>`;
}

export function trendArrow(score: number | null, previous: number | null): SafeHtml {
  if (score === null || previous === null) return raw('<span class="trend flat" title="no previous score">·</span>');
  const d = Math.round((score - previous) * 10) / 10;
  if (d >= 1) return html`<span class="trend up" title="+${d}">▲</span>`;
  if (d <= -1) return html`<span class="trend down" title="${d}">▼</span>`;
  return html`<span class="trend flat" title="${d}">▶</span>`;
}
