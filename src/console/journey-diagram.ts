import { html, SafeHtml } from './html';

/**
 * A journey's steps drawn as boxes in columns by depth from the first step, each with its
 * live count and labelled edges to the steps it leads to. Works on the journey model's step
 * shape (id, type, next / then / else / onMet / onTimeout / arms) without importing it.
 */
export interface DiagramStep {
  id: string;
  type: string;
  next?: string;
  then?: string;
  else?: string;
  onMet?: string;
  onTimeout?: string;
  arms?: { name: string; percent: number; next: string }[];
  template?: string;
  reason?: string;
  durationMs?: number;
}

export interface Edge {
  from: string;
  to: string;
  label: string;
}

export function edgesOf(step: DiagramStep): Edge[] {
  const out: Edge[] = [];
  const add = (to: string | undefined, label: string) => to && out.push({ from: step.id, to, label });
  add(step.next, '');
  add(step.then, 'then');
  add(step.else, 'else');
  add(step.onMet, 'met');
  add(step.onTimeout, 'timeout');
  for (const arm of step.arms ?? []) add(arm.next, `${arm.name} ${arm.percent}%`);
  return out;
}

/** Columns of step ids by shortest distance from the first step; unreachable steps last. */
export function columns(steps: DiagramStep[]): string[][] {
  if (!steps.length) return [];
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth = new Map<string, number>([[steps[0].id, 0]]);
  const queue = [steps[0].id];
  while (queue.length) {
    const id = queue.shift()!;
    for (const e of edgesOf(byId.get(id)!)) {
      if (!depth.has(e.to) && byId.has(e.to)) {
        depth.set(e.to, depth.get(id)! + 1);
        queue.push(e.to);
      }
    }
  }
  const cols: string[][] = [];
  for (const s of steps) {
    const d = depth.get(s.id) ?? Math.max(0, ...depth.values()) + 1;
    (cols[d] ??= []).push(s.id);
  }
  return cols.filter(Boolean);
}

function summary(s: DiagramStep): string {
  if (s.type === 'send' && s.template) return s.template;
  if (s.type === 'wait' && s.durationMs) return `${Math.round(s.durationMs / 3_600_000)} h`;
  if (s.type === 'notify_csm' && s.reason) return s.reason;
  return '';
}

export function journeyDiagram(steps: DiagramStep[], counts: Record<string, number>): SafeHtml {
  const byId = new Map(steps.map((s) => [s.id, s]));
  return html`<div class="diagram" id="journey-diagram">${columns(steps).map(
    (col, i) =>
      html`${i ? html`<span class="arrow">→</span>` : ''}<div class="col">${col.map((id) => {
        const s = byId.get(id)!;
        return html`<div class="node t-${s.type}" data-step="${s.id}"><span class="count" data-count="${counts[s.id] ?? 0}">${(counts[s.id] ?? 0).toLocaleString('en-US')}</span><strong>${
          s.id
        }</strong><div class="muted">${s.type}${summary(s) ? html` · ${summary(s)}` : ''}</div>${edgesOf(s).map(
          (e) => html`<div class="edge">→ ${e.to}${e.label ? html` <span class="muted">(${e.label})</span>` : ''}</div>`,
        )}</div>`;
      })}</div>`,
  )}</div>`;
}
