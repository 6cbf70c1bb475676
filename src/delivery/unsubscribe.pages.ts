/** The small HTML pages behind unsubscribe links (no scripts, no cookies, no external assets). */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function mask(email: string): string {
  const [user, domain] = email.split('@');
  return `${user.slice(0, 2)}${'•'.repeat(Math.max(1, Math.min(6, user.length - 2)))}@${domain}`;
}

const T = {
  ja: {
    title: '配信停止',
    ask: (e: string) => `${e} へのお知らせメールの配信を停止しますか？`,
    button: '配信を停止する',
    done: (e: string) => `${e} へのお知らせメールの配信を停止しました。サービスに関する重要なご連絡は引き続きお送りします。`,
    already: (e: string) => `${e} はすでに配信停止済みです。`,
    invalid: 'このリンクは無効です。メールに記載のリンクをそのままお使いください。',
  },
  en: {
    title: 'Unsubscribe',
    ask: (e: string) => `Stop marketing and success emails to ${e}?`,
    button: 'Unsubscribe',
    done: (e: string) => `${e} will no longer receive marketing and success emails. Essential service notices still arrive.`,
    already: (e: string) => `${e} is already unsubscribed.`,
    invalid: 'This link is not valid. Please use the link exactly as it appears in the email.',
  },
};

const texts = (locale: string | null | undefined) => (locale?.toLowerCase().startsWith('ja') ? T.ja : T.en);

function page(locale: string | null | undefined, title: string, body: string): string {
  const lang = locale?.toLowerCase().startsWith('ja') ? 'ja' : 'en';
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem}</style></head><body>${body}</body></html>`;
}

export function confirmPage(locale: string | null, email: string, already: boolean): string {
  const t = texts(locale);
  if (already) return page(locale, t.title, `<h1>${esc(t.title)}</h1><p>${esc(t.already(mask(email)))}</p>`);
  // The form posts the RFC 8058 body to the same URL; GET itself changes nothing (link scanners GET).
  return page(
    locale,
    t.title,
    `<h1>${esc(t.title)}</h1><p>${esc(t.ask(mask(email)))}</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><input type="hidden" name="via" value="page"><button type="submit">${esc(t.button)}</button></form>`,
  );
}

export function donePage(locale: string | null, email: string): string {
  const t = texts(locale);
  return page(locale, t.title, `<h1>${esc(t.title)}</h1><p>${esc(t.done(mask(email)))}</p>`);
}

export function invalidPage(): string {
  return page('en', 'Unsubscribe', `<h1>Unsubscribe / 配信停止</h1><p>${esc(T.en.invalid)}</p><p>${esc(T.ja.invalid)}</p>`);
}
