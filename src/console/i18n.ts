/**
 * Console UI strings in English and Japanese. The language comes from an explicit choice
 * (the switch sets a cookie), else the browser's Accept-Language, else English.
 */
import { en, MessageKey } from './i18n.en';
import { ja } from './i18n.ja';

export type { MessageKey };

export type Lang = 'en' | 'ja';
export const LANGS: Lang[] = ['en', 'ja'];

const DICTS: Record<Lang, Record<MessageKey, string>> = { en, ja };

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const dict = DICTS[lang];
  return (key, vars) => {
    let s = dict[key] ?? en[key] ?? key;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
    return s;
  };
}

/** Looks up a key built from data (a phase, a status) and falls back to the raw value. */
export function translateValue(t: Translate, prefix: string, value: string | null | undefined): string {
  if (!value) return '';
  const key = `${prefix}.${value}` as MessageKey;
  return key in en ? t(key) : value;
}

/** The choice wins; else the first supported language of Accept-Language (by q); else English. */
export function chooseLang(chosen: string | undefined, acceptLanguage: string | undefined): Lang {
  if (chosen === 'en' || chosen === 'ja') return chosen;
  if (!acceptLanguage) return 'en';
  const ranked = acceptLanguage
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1, i };
    })
    .filter((x) => x.tag && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranked) {
    const base = r.tag.split('-')[0];
    if (base === 'ja' || base === 'en') return base;
  }
  return 'en';
}

export function dictionaries(): Record<Lang, Record<MessageKey, string>> {
  return DICTS;
}
