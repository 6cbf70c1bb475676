/**
 * The small HTML pages recipients see (preferences, survey thanks and comment, bad link),
 * in Japanese or English by the contact's locale. Every value is escaped; no scripts, no
 * external resources, so the pages work under a strict Content-Security-Policy.
 */
export type PageLocale = 'ja' | 'en';

export function pageLocale(locale: string | null | undefined, fallback: string): PageLocale {
  const l = (locale || fallback || 'en').toLowerCase();
  return l.startsWith('ja') ? 'ja' : 'en';
}

const TEXT = {
  ja: {
    badLink: 'このリンクは無効です',
    badLinkBody: 'リンクが壊れているか、改変されています。メールのリンクをもう一度お試しください。',
    tooMany: 'アクセスが集中しています',
    tooManyBody: 'しばらくしてからもう一度お試しください。',
    prefsTitle: 'メール配信設定',
    prefsIntro: (email: string) => `${email} 宛のメールの受け取り方を選んでください。`,
    all: 'すべてのご案内メールを受け取る',
    marketingOff: 'ご案内（マーケティング）メールを停止する（サービスに関する重要なお知らせは届きます）',
    allOff: 'すべてのご案内メールを停止する',
    save: '保存する',
    saved: '設定を保存しました',
    savedBody: '変更はすぐに反映されます。',
    current: '現在の設定',
    blocked: 'このアドレスには配信エラーなどのため現在メールをお送りしていません。',
    thanks: 'ご回答ありがとうございました',
    yourScore: (kind: string, score: number) => (kind === 'nps' ? `おすすめ度: ${score} / 10` : `満足度: ${score} / 5`),
    commentLabel: 'よろしければ、理由をお聞かせください（任意）',
    send: '送信する',
    commentThanks: 'コメントをお送りいただきありがとうございました',
  },
  en: {
    badLink: 'This link is not valid',
    badLinkBody: 'The link is broken or has been altered. Please try the link in the email again.',
    tooMany: 'Too many requests',
    tooManyBody: 'Please try again in a moment.',
    prefsTitle: 'Email preferences',
    prefsIntro: (email: string) => `Choose which emails ${email} receives from us.`,
    all: 'Receive all our product emails',
    marketingOff: 'Stop marketing emails (important service notices still arrive)',
    allOff: 'Stop all our product emails',
    save: 'Save',
    saved: 'Your preferences are saved',
    savedBody: 'The change takes effect immediately.',
    current: 'Current setting',
    blocked: 'We currently do not send to this address (for example after delivery failures).',
    thanks: 'Thank you for your answer',
    yourScore: (kind: string, score: number) => (kind === 'nps' ? `How likely to recommend: ${score} / 10` : `Satisfaction: ${score} / 5`),
    commentLabel: 'Would you tell us why? (optional)',
    send: 'Send',
    commentThanks: 'Thank you for your comment',
  },
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(locale: PageLocale, title: string, body: string): string {
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222;line-height:1.6}
label{display:block;margin:.5rem 0}button{padding:.5rem 1.5rem;font-size:1rem}textarea{width:100%;min-height:6rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

export function badLinkPage(locale: PageLocale): string {
  const t = TEXT[locale];
  return layout(locale, t.badLink, `<p>${escapeHtml(t.badLinkBody)}</p>`);
}

export function tooManyPage(locale: PageLocale): string {
  const t = TEXT[locale];
  return layout(locale, t.tooMany, `<p>${escapeHtml(t.tooManyBody)}</p>`);
}

export type PreferenceChoice = 'all' | 'marketing_off' | 'all_off';

export function preferencesPage(locale: PageLocale, p: { email: string; current: PreferenceChoice; blocked: boolean; action: string; csrf: string; saved?: boolean }): string {
  const t = TEXT[locale];
  const option = (value: PreferenceChoice, label: string) =>
    `<label><input type="radio" name="choice" value="${value}"${p.current === value ? ' checked' : ''}> ${escapeHtml(label)}</label>`;
  const body = [
    p.saved ? `<p role="status"><strong>${escapeHtml(t.saved)}</strong> ${escapeHtml(t.savedBody)}</p>` : '',
    p.blocked ? `<p>${escapeHtml(t.blocked)}</p>` : '',
    `<p>${escapeHtml(t.prefsIntro(p.email))}</p>`,
    `<form method="post" action="${escapeHtml(p.action)}">`,
    `<input type="hidden" name="csrf" value="${escapeHtml(p.csrf)}">`,
    option('all', t.all),
    option('marketing_off', t.marketingOff),
    option('all_off', t.allOff),
    `<p><button type="submit">${escapeHtml(t.save)}</button></p></form>`,
  ].join('\n');
  return layout(locale, t.prefsTitle, body);
}

export function surveyThanksPage(locale: PageLocale, p: { kind: string; score: number; action: string; csrf: string; commented?: boolean }): string {
  const t = TEXT[locale];
  if (p.commented) return layout(locale, t.commentThanks, `<p>${escapeHtml(t.yourScore(p.kind, p.score))}</p>`);
  const body = [
    `<p>${escapeHtml(t.yourScore(p.kind, p.score))}</p>`,
    `<form method="post" action="${escapeHtml(p.action)}">`,
    `<input type="hidden" name="csrf" value="${escapeHtml(p.csrf)}">`,
    `<label for="comment">${escapeHtml(t.commentLabel)}</label>`,
    `<textarea id="comment" name="comment" maxlength="2000"></textarea>`,
    `<p><button type="submit">${escapeHtml(t.send)}</button></p></form>`,
  ].join('\n');
  return layout(locale, t.thanks, body);
}

/** What the honeypot link answers: nothing worth following. */
export function emptyPage(): string {
  return '<!doctype html><html><head><meta name="robots" content="noindex,nofollow"><title>-</title></head><body></body></html>';
}
