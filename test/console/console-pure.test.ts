import { decodeCursor, encodeCursor, parseAccountFilter } from '../../src/console/accounts-filter';
import { healthChart, scoreMovers } from '../../src/console/charts';
import { csvCell, csvLine } from '../../src/console/csv';
import { transition, parseHandoffAction } from '../../src/console/handoff-actions';
import { html, raw } from '../../src/console/html';
import { chooseLang, dictionaries } from '../../src/console/i18n';
import { columns, edgesOf } from '../../src/console/journey-diagram';
import { parseMessageFilter } from '../../src/console/messages-filter';
import { csrfToken, csrfValid, decodeSession, encodeSession, newSession } from '../../src/console/session';
import { buildTimeline } from '../../src/console/timeline';

const keys = { review: 'review-key-0123456789', admin: 'admin-key-0123456789' };
const now = new Date('2026-11-20T03:00:00Z');

describe('console building blocks', () => {
  it('escapes every interpolation, nested and in attributes, unless built by html``', () => {
    const name = `<script>"x" & 'y'</script>`;
    expect(html`<td title="${name}">${name}</td>`.value).toBe(
      '<td title="&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;">&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;</td>',
    );
    expect(html`<ul>${[1, 2].map((i) => html`<li>${i}</li>`)}</ul>`.value).toBe('<ul><li>1</li><li>2</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
    expect(html`${raw('<b>ok</b>')}`.value).toBe('<b>ok</b>');
  });

  it('signs sessions: tampering, expiry and key rotation are refused', () => {
    const s = newSession({ role: 'review', name: 'Mika', key: keys.review, now, ttlSeconds: 3600 });
    const cookie = encodeSession(s, 'secret-1');
    expect(decodeSession(cookie, 'secret-1', now, keys)).toEqual({ ok: true, session: s });
    expect(decodeSession(cookie, 'secret-2', now, keys)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(decodeSession(cookie, 'secret-1', new Date(now.getTime() + 3600_000), keys)).toEqual({ ok: false, reason: 'expired' });
    expect(decodeSession(cookie, 'secret-1', now, { ...keys, review: 'rotated-review-key-0000' })).toEqual({ ok: false, reason: 'key_rotated' });
    const [body, sig] = cookie.split('.');
    const admin = Buffer.from(JSON.stringify({ ...s, role: 'admin' })).toString('base64url');
    expect(decodeSession(`${admin}.${sig}`, 'secret-1', now, keys).ok).toBe(false);
    expect(decodeSession(`${body}`, 'secret-1', now, keys)).toEqual({ ok: false, reason: 'malformed' });
    expect(decodeSession(undefined, 'secret-1', now, keys)).toEqual({ ok: false, reason: 'missing' });
    const token = csrfToken(s, 'secret-1');
    expect(csrfValid(s, 'secret-1', token)).toBe(true);
    expect(csrfValid({ sid: 'other' }, 'secret-1', token)).toBe(false);
    expect(csrfValid(s, 'secret-1', undefined)).toBe(false);
  });

  it('picks the language from the choice, then Accept-Language by weight', () => {
    expect(chooseLang('ja', 'en')).toBe('ja');
    expect(chooseLang(undefined, 'fr-FR, ja;q=0.8, en;q=0.5')).toBe('ja');
    expect(chooseLang(undefined, 'en;q=0.4, ja-JP;q=0.9')).toBe('ja');
    expect(chooseLang(undefined, 'de')).toBe('en');
    expect(chooseLang('xx', undefined)).toBe('en');
    const { en, ja } = dictionaries();
    expect(Object.keys(ja).sort()).toEqual(Object.keys(en).sort());
  });

  it('parses account filters, naming bad fields, and round-trips keyset cursors', () => {
    const ok = parseAccountFilter({ phase: 'adoption', band: 'none', owner: '-', unengaged: '14', high_touch: 'no', sort: 'score_asc', q: ' acme ' });
    expect(ok.problems).toEqual([]);
    expect(ok.filter).toEqual({ phase: 'adoption', band: 'none', owner: '-', unengagedDays: 14, highTouch: false, sort: 'score_asc', q: 'acme' });
    const bad = parseAccountFilter({ phase: 'x', unengaged: '0', high_touch: 'maybe', sort: 'random', after: 'garbage' });
    expect(bad.problems.map((p) => p.path)).toEqual(['phase', 'unengaged', 'high_touch', 'sort', 'after']);
    expect(bad.filter).toEqual({ sort: 'name' });
    const c = { key: 'Acme "1"', id: '42' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor(Buffer.from('["x","1; DROP"]').toString('base64url'))).toBeNull();
  });

  it('parses message filters with real dates only', () => {
    expect(parseMessageFilter({ from: '2026-02-30' }).problems[0].path).toBe('from');
    const r = parseMessageFilter({ from: '2026-11-02', to: '2026-11-01', status: 'capped' });
    expect(r.problems).toEqual([{ path: 'to', message: 'must not be before from (2026-11-02)' }]);
    expect(r.filter).toEqual({ from: '2026-11-02', status: 'capped' });
  });

  it('writes CSV per RFC 4180 and neutralises spreadsheet formulas', () => {
    expect(csvLine(['a,b', 'say "hi"', null, 3, '-12.5'])).toBe('"a,b","say ""hi""",,3,-12.5\r\n');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
  });

  it('allows hand-off actions only from the right statuses', () => {
    expect(transition('open', { action: 'acknowledge', assignee: null })).toEqual({ status: 'acknowledged' });
    expect(transition('acknowledged', { action: 'acknowledge', assignee: null })).toEqual({ error: 'cannot acknowledge a hand-off that is acknowledged' });
    expect(transition('acknowledged', { action: 'close', outcome: 'renewed' })).toEqual({ status: 'closed' });
    expect(transition('closed', { action: 'assign', assignee: 'x' })).toHaveProperty('error');
    expect(parseHandoffAction({ action: 'acknowledge' }, 'Mika').action).toEqual({ action: 'acknowledge', assignee: 'Mika' });
    expect(parseHandoffAction({ action: 'nope' }, '').problems[0].path).toBe('action');
  });

  it('finds which components moved the score, biggest change first', () => {
    const movers = scoreMovers(
      { logins: { contribution: 30, value: 10 }, email: { contribution: 10 }, seats: { contribution: 5 } },
      { logins: { contribution: 20, value: 4 }, email: { contribution: 12 }, features: { contribution: 3 } },
    );
    expect(movers.map((m) => [m.name, m.change])).toEqual([
      ['logins', -10],
      ['seats', -5],
      ['features', 3],
      ['email', 2],
    ]);
  });

  it('draws one band-coloured point per day, clamped to 0–100', () => {
    const svg = healthChart(
      [
        { day: '2026-11-18', score: 120, band: 'green' },
        { day: '2026-11-19', score: 50, band: 'yellow' },
        { day: '2026-11-20', score: -5, band: 'red' },
      ],
      { label: '<chart>' },
    ).value;
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('aria-label="&lt;chart&gt;"');
    expect(svg).toContain('cy="12"'); // 100 at the top padding
    expect(svg).toContain('cy="192"'); // 0 at the bottom
  });

  it('lays out a journey diagram by depth, with labelled edges', () => {
    const steps = [
      { id: 'welcome', type: 'send', template: 'welcome', next: 'wait' },
      { id: 'wait', type: 'wait_until', onMet: 'done', onTimeout: 'split' },
      { id: 'split', type: 'split', arms: [{ name: 'A', percent: 50, next: 'tips' }, { name: 'B', percent: 50, next: 'csm' }] },
      { id: 'tips', type: 'send', next: 'done' },
      { id: 'csm', type: 'notify_csm', reason: 'stuck' },
      { id: 'done', type: 'exit' },
      { id: 'orphan', type: 'exit' },
    ];
    expect(columns(steps)).toEqual([['welcome'], ['wait'], ['split', 'done'], ['tips', 'csm'], ['orphan']]);
    expect(edgesOf(steps[2]).map((e) => e.label)).toEqual(['A 50%', 'B 50%']);
  });

  it('merges the timeline newest first, usage at the end of its day, and says when it cut', () => {
    const msg = (id: string, at: string) => ({ id, at: new Date(at) }) as never;
    const { items, truncated } = buildTimeline(
      { usage: [{ day: '2026-11-19', events: 3, features: 1, users: 1, top: 'login' }], messages: [msg('1', '2026-11-19T10:00:00Z'), msg('2', '2026-11-20T01:00:00Z')], engagement: [], handoffs: [] },
      2,
    );
    expect(items.map((i) => i.kind)).toEqual(['message', 'usage']);
    expect(truncated).toBe(true);
  });
});
