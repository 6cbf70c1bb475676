import { BASE_FILES, engineFor, template, templateDir } from './fixtures';

/** Each broken file alone in a directory with a valid layout, so the problems are exactly its own. */
async function problemsOf(files: Record<string, string>) {
  const dir = templateDir({ ...BASE_FILES, ...files });
  try {
    return await engineFor(dir.dir).validate();
  } finally {
    dir.remove();
  }
}

const SECTION = (inner: string) => `<mj-section>\n  <mj-column>\n    ${inner}\n  </mj-column>\n</mj-section>\n`;
const FM = 'subject: Hello\ncategory: operational';

describe('template validation', () => {
  it('a variable the render context does not provide: file:line:col and a suggestion', async () => {
    expect(await problemsOf({ 't/ja.mjml': template(FM, SECTION('<mj-text>こんにちは {{contact.nmae}} 様</mj-text>')) })).toEqual([
      { path: 'templates/t/ja.mjml:7:22', message: 'unknown variable "contact.nmae": contact has no field "nmae" (did you mean "contact.name"?)' },
    ]);
    expect(await problemsOf({ 't/en.mjml': template(FM, SECTION('<mj-text>{{#each signals.unusedFeatures}}{{featureName this}} {{this.url}}{{/each}}</mj-text>')) })).toEqual([
      { path: 'templates/t/en.mjml:7:69', message: 'unknown variable "this.url": this is a value, it has no field "url"' },
    ]);
  });

  it('variables in the subject and declared variables are checked too', async () => {
    expect(
      await problemsOf({ 't/ja.mjml': template('subject: "{{acount.name}} 様"\ncategory: operational\nvariables: [contact.name, signals.dayzSinceLastLogin]', SECTION('<mj-text>x</mj-text>')) }),
    ).toEqual([
      { path: 'templates/t/ja.mjml:2:1', message: 'subject: unknown variable "acount.name": the render context has no "acount" (did you mean "account"?)' },
      { path: 'templates/t/ja.mjml:4:1', message: 'variables: unknown variable "signals.dayzSinceLastLogin": signals has no field "dayzSinceLastLogin" (did you mean "signals.daysSinceLastLogin"?)' },
    ]);
  });

  it('a missing partial, an unknown helper', async () => {
    expect(await problemsOf({ 't/ja.mjml': template(FM, `${SECTION('<mj-text>x</mj-text>')}{{> buton url="x"}}\n`) })).toEqual([
      { path: 'templates/t/ja.mjml:10:1', message: 'partial "buton" not found (expected partials/buton.mjml or partials/buton.ja.mjml)' },
    ]);
    const [unknown] = await problemsOf({ 't/ja.mjml': template(FM, SECTION('<mj-text>{{shout contact.name}}</mj-text>')) });
    expect(unknown.path).toBe('templates/t/ja.mjml:7:14');
    expect(unknown.message).toMatch(/^unknown helper "shout" \(helpers: track, unsubscribe, preferences, survey, openPixel, formatDate, /);
  });

  it('Handlebars syntax errors', async () => {
    expect(await problemsOf({ 't/ja.mjml': template(FM, SECTION('<mj-text>{{#if csm}}担当: {{csm.name}}</mj-text>')) })).toEqual([
      { path: 'templates/t/ja.mjml:7:14', message: 'Handlebars: {{#if}} is not closed (missing {{/if}})' },
    ]);
    expect(await problemsOf({ 't/ja.mjml': template(FM, SECTION('<mj-text>{{contact.name</mj-text>')) })).toEqual([
      { path: 'templates/t/ja.mjml:7:14', message: 'Handlebars syntax error: this expression is not closed with }} or holds an invalid character' },
    ]);
  });

  it('invalid MJML: an unknown element and an unclosed one, at their lines', async () => {
    expect(await problemsOf({ 't/ja.mjml': template(FM, SECTION('<mj-txt>x</mj-txt>')) })).toEqual([
      { path: 'templates/t/ja.mjml:7:1', message: "MJML: Element mj-txt doesn't exist or is not registered" },
    ]);
    expect(await problemsOf({ 't/ja.mjml': template(FM, '<mj-section>\n  <mj-column>\n    <mj-text>x</mj-text>\n</mj-section>\n') })).toEqual([
      { path: 'templates/t/ja.mjml:6:3', message: '<mj-column> is not closed (expected </mj-column> before </mj-section>)' },
    ]);
  });

  it('front matter: missing fields, bad category, unknown keys', async () => {
    expect(await problemsOf({ 't/ja.mjml': template('subject: Hi\ncategory: promo\nlayuot: default', SECTION('<mj-text>x</mj-text>')) })).toEqual([
      { path: 'templates/t/ja.mjml:4:1', message: 'unknown front matter key "layuot" (expected subject, preheader, category, layout, variables, description)' },
      { path: 'templates/t/ja.mjml:3:1', message: 'front matter: category must be "marketing" or "operational" (got "promo")' },
    ]);
    expect(await problemsOf({ 't/ja.mjml': '<mj-section></mj-section>\n' })).toEqual([
      { path: 'templates/t/ja.mjml:1:1', message: 'missing front matter: the file must start with a "---" line, then subject, category, … and a closing "---"' },
    ]);
  });

  it('compliance: a marketing template whose layout lacks the unsubscribe link fails; the same as operational passes', async () => {
    const body = SECTION('<mj-text>新機能のお知らせ</mj-text>');
    expect(await problemsOf({ 'promo/ja.mjml': template('subject: お知らせ\ncategory: marketing\nlayout: bare', body) })).toEqual([
      {
        path: 'templates/promo/ja.mjml:2:1',
        message: 'marketing template: its layout (layouts/bare.mjml) does not show the sender postal address ({{sender.address}}), required in marketing email (特定電子メール法; Gmail/Yahoo bulk-sender rules)',
      },
      {
        path: 'templates/promo/ja.mjml:2:1',
        message: 'marketing template: its layout (layouts/bare.mjml) does not show the sender contact ({{sender.contact}}), required in marketing email (特定電子メール法; Gmail/Yahoo bulk-sender rules)',
      },
      {
        path: 'templates/promo/ja.mjml:2:1',
        message: 'marketing template: its layout (layouts/bare.mjml) has no unsubscribe link (<a href="{{unsubscribe}}">…</a>), required in marketing email (特定電子メール法; Gmail/Yahoo bulk-sender rules)',
      },
    ]);
    expect(await problemsOf({ 'promo/ja.mjml': template('subject: お知らせ\ncategory: operational\nlayout: bare', body) })).toEqual([]);
    expect(await problemsOf({ 'promo/ja.mjml': template('subject: お知らせ\ncategory: marketing', body) })).toEqual([]);
  });

  it('compliance: an unsubscribe link hidden by a condition or without text fails', async () => {
    const hidden = BASE_FILES['partials/footer.mjml'].replace('<a href="{{unsubscribe}}">Unsubscribe</a>', '{{#if account.highTouch}}<a href="{{unsubscribe}}">Unsubscribe</a>{{/if}}');
    const problems = await problemsOf({ 'partials/footer.mjml': hidden, 'promo/en.mjml': template('subject: News\ncategory: marketing', SECTION('<mj-text>x</mj-text>')) });
    expect(problems).toEqual([
      {
        path: 'templates/promo/en.mjml:2:1',
        message: 'marketing template: the unsubscribe link is not visible in the rendered email (it needs link text and must not be hidden), required in marketing email (特定電子メール法; Gmail/Yahoo bulk-sender rules)',
      },
    ]);
    const empty = BASE_FILES['partials/footer.mjml'].replace('>Unsubscribe</a>', '></a>');
    expect((await problemsOf({ 'partials/footer.mjml': empty, 'promo/en.mjml': template('subject: News\ncategory: marketing', SECTION('<mj-text>x</mj-text>')) }))[0]?.message).toMatch(/unsubscribe link is not visible/);
  });
});
