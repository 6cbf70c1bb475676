import { SimulationReport } from './simulate';

/** The simulation report as readable text lines (the CLI prints these). */
export function formatReport(r: SimulationReport): string[] {
  const out: string[] = [];
  out.push(`journey ${r.journey} (per ${r.subject}), ${r.from.slice(0, 16)}Z → ${r.to.slice(0, 16)}Z — dry run, nothing written or sent`);
  out.push(`entered: ${r.entered}${r.heldOut ? ` (${r.heldOut} in the control group)` : ''}`);
  const days = Object.entries(r.enteredByDay).sort();
  if (days.length) out.push(`  by day: ${days.map(([d, n]) => `${d.slice(5)} ${n}`).join(', ')}`);
  out.push('steps (reached):');
  for (const [step, n] of Object.entries(r.reached)) {
    const o = r.outcomes[step];
    out.push(`  ${step.padEnd(24)} ${String(n).padStart(6)}${o ? '   → ' + Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ') : ''}`);
  }
  const why = Object.entries(r.why);
  if (why.length) {
    out.push('why:');
    for (const [k, reasons] of why) for (const reason of reasons) out.push(`  ${k}: ${reason}`);
  }
  out.push('emails per template per day:');
  const templates = Object.entries(r.emails);
  if (!templates.length) out.push('  (none)');
  for (const [t, perDay] of templates) {
    const total = Object.values(perDay).reduce((a, b) => a + b, 0);
    out.push(`  ${t}: ${total} — ${Object.entries(perDay).sort().map(([d, n]) => `${d.slice(5)} ${n}`).join(', ')}`);
  }
  for (const [t, n] of Object.entries(r.holdoutEmails)) out.push(`  ${t}: ${n} held back (control group)`);
  if (r.handoffs) out.push(`hand-offs to CSMs: ${r.handoffs}`);
  if (r.updates) out.push(`updates: ${r.updates}`);
  out.push(`ended: ${Object.entries(r.ended).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  const active = Object.entries(r.activeAt);
  if (active.length) out.push(`still in the journey at the end: ${active.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const [subject, path] of Object.entries(r.paths)) {
    out.push(`path of ${subject}:`);
    if (!path.length) out.push('  did not enter (audience or trigger not met in this window)');
    for (const p of path) out.push(`  ${p.at.slice(0, 16)}Z  ${p.step.padEnd(22)} ${p.action}${p.outcome ? ` (${p.outcome})` : ''}: ${p.reason}`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out;
}
