import { simpleParser } from 'mailparser';
import * as nodemailer from 'nodemailer';
import { composeMime, composeMimeByNodes, MimeParts } from '../../src/delivery/mime';

/** What nodemailer's own composer writes for the same message (the options the transport used before composeMime). */
async function nodemailerComposed(mail: MimeParts, date: Date, baseBoundary: string): Promise<Buffer> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await t.sendMail({ textEncoding: 'base64', from: mail.from, to: mail.to, subject: mail.subject, html: mail.html, text: mail.text, messageId: mail.messageId, headers: mail.headers, date, baseBoundary } as nodemailer.SendMailOptions);
  return info.message as Buffer;
}

const ja: MimeParts = {
  from: '"Touchline チーム" <team@touchline.example>',
  to: 'user1@bench.example',
  subject: '最近お見かけしません — Account 1 のご利用状況について、長めの件名で折り返しを確かめます',
  html: `<html><body>${'<p>こんにちは、ユーザー 1 様。<a href="https://touchline.example/c/abc?x=1&amp;y=2">詳しく</a></p>\n'.repeat(60)}</body></html>`,
  text: `こんにちは、ユーザー 1 様。\n.先頭のドット\n${'詳しくはこちら https://touchline.example/c/abc\n'.repeat(40)}`,
  messageId: '<tl.1.abcdef@touchline.example>',
  headers: {
    'X-Touchline-Message-Id': '1',
    'List-Unsubscribe': `<https://touchline.example/u/${'t'.repeat(150)}>, <mailto:unsubscribe@touchline.example?subject=unsubscribe%20${'t'.repeat(150)}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  },
};

describe('composeMime', () => {
  it('writes byte for byte what nodemailer composes for the same Japanese message', async () => {
    const date = new Date('2026-11-22T09:30:00Z');
    const ours = composeMime(ja, { date, baseBoundary: 'fixedboundary01' });
    const theirs = await nodemailerComposed(ja, date, 'fixedboundary01');
    expect(ours.toString('utf8')).toBe(theirs.toString('utf8'));
  });

  it('writes what the MimeNode assembly writes for varied messages (the fast header path against nodemailer\'s nodes)', () => {
    const date = new Date('2026-11-22T09:30:00Z');
    const prepared = ja.headers['List-Unsubscribe'];
    const variants: Array<[string, Partial<MimeParts>]> = [
      ['as sent', { headers: { ...ja.headers, 'List-Unsubscribe': { prepared: true, value: `<https://touchline.example/u/t>,\r\n <mailto:u@touchline.example?subject=unsubscribe%20t>` } } }],
      ['ASCII subject and parts', { subject: 'We miss you', text: 'Hello Ken\n.\nbye', html: '<p>Hello Ken</p>' }],
      ['empty subject (left out) and empty parts', { subject: '', text: '', html: '' }],
      ['a long ASCII subject (folded)', { subject: 'word '.repeat(40).trim() }],
      ['operational: no List-Unsubscribe', { headers: { 'X-Touchline-Message-Id': '7' } }],
      ['lower-case header names (normalised)', { headers: { 'x-touchline-message-id': '8', 'list-unsubscribe-post': 'List-Unsubscribe=One-Click', 'List-Unsubscribe': prepared } }],
      ['a plain ASCII sender name', { from: 'Touchline <team@touchline.example>' }],
      ['a quoted sender name with a comma', { from: '"Team, Touchline" <team@touchline.example>' }],
      ['To with a name and upper case', { to: 'Ken Mori <Ken.Mori@Example.COM>' }],
      ['To with an international domain', { to: 'ken@jõgeva.ee' }],
      ['To with dots and plus', { to: 'ken.mori+tl@mail.bench-1.example' }],
      ['To with a doubled dot (quoted)', { to: 'ken..mori@bench.example' }],
      ['a header the fast path leaves to MimeNode', { headers: { ...ja.headers, 'Reply-To': 'Support <help@touchline.example>', References: 'a@b c@d' } }],
      ['a caller header named like one of ours', { headers: { ...ja.headers, Subject: 'shadowed' } }],
    ];
    for (const [what, change] of variants) {
      const mail = { ...ja, ...change } as MimeParts;
      const fast = composeMime(mail, { date, baseBoundary: '0123456789abcdef' }).toString('utf8');
      expect({ what, mime: fast }).toEqual({ what, mime: composeMimeByNodes(mail, { date, baseBoundary: '0123456789abcdef' }).toString('utf8') });
    }
    // Without a given boundary, each message gets its own.
    const [a, b] = [composeMime(ja), composeMime(ja)].map((m) => /boundary="([^"]+)"/.exec(m.toString('utf8'))![1]);
    expect(a).toMatch(/^--_NmP-[0-9a-f]{16}-Part_1$/);
    expect(a).not.toBe(b);
  });

  it('round-trips every part and header through a MIME parser, ASCII-only parts included (base64 too)', async () => {
    for (const mail of [ja, { ...ja, from: 'Touchline <team@touchline.example>', subject: 'We miss you', html: '<p>Hello Ken</p>', text: 'Hello Ken\n.\nbye' }]) {
      const raw = composeMime(mail);
      expect(raw.toString('latin1')).not.toMatch(/[^\r]\n/); // CRLF line ends only
      for (const line of raw.toString('utf8').split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
      const parsed = await simpleParser(raw);
      expect(parsed.subject).toBe(mail.subject);
      expect(parsed.text).toBe(mail.text);
      expect(parsed.html).toBe(mail.html);
      expect(parsed.messageId).toBe(mail.messageId);
      expect(parsed.to && 'text' in parsed.to ? parsed.to.text : null).toBe(mail.to);
      expect(parsed.from?.value[0]).toEqual({ address: 'team@touchline.example', name: mail.from.includes('チーム') ? 'Touchline チーム' : 'Touchline' });
      expect(parsed.headers.get('x-touchline-message-id')).toBe('1');
      expect(parsed.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
      expect(parsed.date).toBeInstanceOf(Date);
    }
  });
});
