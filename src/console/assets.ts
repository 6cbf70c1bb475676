/**
 * The console's stylesheet and script, served from /console/assets (no CDN, no build step:
 * the console works offline).
 */
export const CONSOLE_CSS = `
:root { --fg:#1d2330; --muted:#5f6b7a; --line:#dde2ea; --bg:#f6f7f9; --accent:#1e5bb8; --card:#fff; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Hiragino Sans", "Noto Sans JP", "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
header.top { display:flex; align-items:center; gap:16px; padding:8px 20px; background:#17233a; color:#fff; }
header.top a { color:#d6e2ff; } header.top nav a { margin-right:14px; padding:4px 0; }
header.top nav a.active { color:#fff; border-bottom:2px solid #8fb3ff; }
.brand { font-weight:700; color:#fff !important; } .spacer { flex:1; } .who { color:#c7d2e8; }
.lang strong { color:#fff; }
main { padding:16px 24px 40px; max-width:1400px; }
h1 { font-size:22px; margin:4px 0 14px; } h2 { font-size:17px; margin:22px 0 8px; } h3 { font-size:15px; margin:14px 0 6px; }
footer { color:var(--muted); font-size:12px; padding:8px 24px; }
table { border-collapse:collapse; width:100%; background:var(--card); }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12px; background:#fafbfc; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
form.filters { display:flex; flex-wrap:wrap; gap:10px 14px; align-items:flex-end; background:var(--card); padding:10px 12px; border:1px solid var(--line); margin-bottom:12px; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:2px; }
input, select, textarea, button { font:inherit; padding:4px 6px; border:1px solid #c3cad5; border-radius:4px; background:#fff; }
button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); }
button.link { background:none; border:none; color:#d6e2ff; padding:0; cursor:pointer; }
form.inline { display:inline; }
.card { background:var(--card); border:1px solid var(--line); padding:12px 14px; margin-bottom:14px; }
.grid2 { display:grid; grid-template-columns: 2fr 1fr; gap:14px; }
.band { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; color:#fff; }
.band.green { background:#2e7d32; } .band.yellow { background:#c99a00; } .band.red { background:#c62828; } .band.none { background:#9aa3ae; }
.trend.up { color:#2e7d32; } .trend.down { color:#c62828; } .trend.flat { color:#9aa3ae; }
.status { display:inline-block; padding:0 6px; border-radius:3px; font-size:12px; background:#e8ecf2; }
.s-sent { background:#e3f3e4; } .s-failed { background:#fbe1e1; } .s-suppressed, .s-capped, .s-deferred { background:#fff1cc; } .s-holdout { background:#e9e3fb; }
.machine { font-size:11px; background:#eee; color:#666; padding:0 5px; border-radius:3px; margin-left:4px; }
.pager { margin:10px 0; display:flex; gap:14px; align-items:center; }
.muted { color:var(--muted); } .problems { color:#a01515; } .flash { background:#e3f3e4; padding:6px 10px; border:1px solid #b8dcb9; margin-bottom:10px; }
.error-box { background:#fbe1e1; border:1px solid #e9b3b3; padding:8px 12px; margin-bottom:10px; }
svg.chart { background:#fff; border:1px solid var(--line); max-height:260px; }
svg.chart .grid { stroke:#edf0f4; } svg.chart .axis { fill:#7a8594; font-size:10px; } svg.chart .line { stroke:#1e5bb8; stroke-width:2; }
ol.timeline { list-style:none; padding:0; margin:0; }
ol.timeline li { display:grid; grid-template-columns: 150px 110px 1fr; gap:10px; padding:6px 8px; border-bottom:1px solid var(--line); background:var(--card); }
ol.timeline li[hidden] { display:none; }
ol.timeline li .kind { font-size:12px; font-weight:600; }
.k-usage .kind { color:#5f6b7a; } .k-message .kind { color:#1e5bb8; } .k-engagement .kind { color:#2e7d32; } .k-handoff .kind { color:#c62828; } .k-survey .kind { color:#b8641f; } .k-enrollment .kind { color:#7b3fb8; }
.tl-filter label { margin-right:12px; font-size:13px; }
iframe.email { width:100%; height:640px; border:1px solid var(--line); background:#fff; }
pre.json { background:#f3f5f8; padding:8px; overflow:auto; max-height:320px; font-size:12px; }
.funnel-row { display:grid; grid-template-columns: 130px 1fr 90px; gap:8px; align-items:center; margin:3px 0; }
.funnel-bar { background:#edf0f4; height:16px; display:block; } .funnel-bar span { display:block; height:16px; background:#5b8fd9; }
.funnel-value { text-align:right; font-variant-numeric: tabular-nums; }
.diagram { display:flex; flex-wrap:wrap; align-items:center; gap:6px; }
.diagram .node { border:1px solid #9fb4d6; background:#f4f8ff; padding:6px 10px; border-radius:6px; min-width:120px; }
.diagram .node .count { font-weight:700; float:right; margin-left:10px; }
.diagram .arrow { color:#9aa3ae; }
dl.facts { display:grid; grid-template-columns: max-content 1fr; gap:4px 14px; margin:0; } dl.facts dt { color:var(--muted); }
.login { max-width:420px; } .login label { display:block; margin:10px 0 4px; } .login input { width:100%; }
`;

/** Progressive enhancement only: every page works without it. */
export const CONSOLE_JS = `
document.addEventListener('DOMContentLoaded', function () {
  // Timeline: show or hide kinds of items without a round trip.
  document.querySelectorAll('.tl-filter input[type=checkbox]').forEach(function (box) {
    box.addEventListener('change', function () {
      document.querySelectorAll('ol.timeline li.k-' + box.value).forEach(function (li) { li.hidden = !box.checked; });
    });
  });
  // Filters: changing a select submits its form.
  document.querySelectorAll('form.filters select[data-autosubmit]').forEach(function (sel) {
    sel.addEventListener('change', function () { sel.form.submit(); });
  });
});
`;
