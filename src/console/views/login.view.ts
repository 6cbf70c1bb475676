import { html, SafeHtml } from '../html';
import { layout, PageContext } from './layout';

export function loginPage(ctx: PageContext, o: { loginCsrf: string; next: string; error?: string; expired?: boolean }): SafeHtml {
  const { t } = ctx;
  return layout(
    ctx,
    'login',
    t('login.title'),
    html`<form method="post" action="/console/login" class="card login" id="login-form">
  ${o.error ? html`<div class="error-box" id="login-error">${o.error}</div>` : o.expired ? html`<div class="error-box">${t('login.expired')}</div>` : ''}
  <input type="hidden" name="_csrf" value="${o.loginCsrf}">
  <input type="hidden" name="next" value="${o.next}">
  <label for="key">${t('login.key')}</label>
  <input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
  <label for="name">${t('login.name')}</label>
  <input id="name" name="name" type="text" maxlength="80" autocomplete="name">
  <p><button type="submit">${t('login.submit')}</button></p>
  <p class="muted">${t('login.hint')}</p>
</form>`,
  );
}
