import { html, raw, SafeHtml } from '../html';
import type { Lang, Translate } from '../i18n';

/** What every page view needs: translations, the CSRF token for forms, who is signed in. */
export interface PageContext {
  t: Translate;
  lang: Lang;
  csrf: string;
  user: { role: string; name: string } | null;
  /** Current path with query, for the language switch to come back to. */
  here: string;
  /** Milliseconds spent before rendering (shown in the footer, also sent as Server-Timing). */
  startedAt: number;
}

export type NavKey = 'accounts' | 'journeys' | 'messages' | 'handoffs' | 'preview' | 'login';

export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

export function layout(ctx: PageContext, nav: NavKey, title: string, body: SafeHtml): SafeHtml {
  const { t } = ctx;
  const link = (key: Exclude<NavKey, 'login'>, href: string) => html`<a href="${href}" class="${nav === key ? 'active' : ''}">${t(`nav.${key}`)}</a>`;
  const langLink = (l: Lang, label: string) =>
    ctx.lang === l ? html`<strong>${label}</strong>` : html`<a href="/console/lang/${l}?back=${encodeURIComponent(ctx.here)}" hreflang="${l}">${label}</a>`;
  return html`<!doctype html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${t('app.title')}</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/console">Touchline</a>
  ${
    ctx.user
      ? html`<nav>${link('accounts', '/console/accounts')}${link('journeys', '/console/journeys')}${link('messages', '/console/messages')}${link(
          'handoffs',
          '/console/handoffs',
        )}${link('preview', '/console/preview')}</nav>`
      : ''
  }
  <span class="spacer"></span>
  <span class="lang">${langLink('en', 'English')} | ${langLink('ja', '日本語')}</span>
  ${
    ctx.user
      ? html`<span class="who">${ctx.user.name || ctx.user.role} (${ctx.user.role})</span>
  <form method="post" action="/console/logout" class="inline">${csrfField(ctx)}<button type="submit" class="link">${t('nav.logout')}</button></form>`
      : ''
  }
</header>
<main>
<h1>${title}</h1>
${body}
</main>
<footer>${t('common.server_time')}: <span id="server-ms">${raw(String(Math.round(performance.now() - ctx.startedAt)))}</span> ms</footer>
</body>
</html>`;
}

/** Formats an instant in the viewer's zone-agnostic ISO form (UTC, minutes). */
export function when(at: Date | string | null | undefined): string {
  if (!at) return '';
  const d = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  return d.toISOString().slice(0, 16).replace('T', ' ') + 'Z';
}

export function day(at: Date | string | null | undefined): string {
  if (!at) return '';
  if (typeof at === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(at)) return at;
  const d = at instanceof Date ? at : new Date(at);
  return Number.isNaN(d.getTime()) ? String(at) : d.toISOString().slice(0, 10);
}

export function bandBadge(t: Translate, band: string | null | undefined): SafeHtml {
  if (!band) return html`<span class="band none">${t('band.none')}</span>`;
  const key = `band.${band}` as Parameters<Translate>[0];
  return html`<span class="band ${band}">${t(key)}</span>`;
}

export function statusBadge(t: Translate, status: string): SafeHtml {
  const key = `status.${status}` as Parameters<Translate>[0];
  return html`<span class="status s-${status}">${t(key)}</span>`;
}

export function errorList(problems: { path: string; message: string }[]): SafeHtml {
  if (!problems.length) return html``;
  return html`<ul class="problems">${problems.map((p) => html`<li><code>${p.path}</code>: ${p.message}</li>`)}</ul>`;
}
