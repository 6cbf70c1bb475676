import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TemplateEngine } from '../../src/templates/template-engine';

export const SENDER = { name: 'Touchline Demo Co., Ltd.', email: 'success@touchline.example', address: '1-2-3 Marunouchi, Chiyoda-ku, Tokyo', contact: 'support@touchline.example' };
export const KEY_FEATURES = ['report_created', 'dashboard_viewed', 'mail_sent', 'integration_connected'];
export const NOW = new Date('2026-11-20T20:30:00Z');

/** A temp templates directory holding `files` (relative path → text). */
export function templateDir(files: Record<string, string>): { dir: string; write(rel: string, text: string): void; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-templates-'));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  for (const [rel, text] of Object.entries(files)) write(rel, text);
  return { dir, write, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function engineFor(dir: string, reloadMs = 0): TemplateEngine {
  return new TemplateEngine({
    dir,
    displayRoot: 'templates',
    defaultLocale: 'ja',
    defaultTimezone: 'Asia/Tokyo',
    keyFeatures: KEY_FEATURES,
    sender: SENDER,
    reloadMs,
    now: () => NOW,
  });
}

/** A small but complete set: a compliant layout, a footer partial, a greeting partial. */
export const BASE_FILES: Record<string, string> = {
  'layouts/default.mjml': `<mjml>
  <mj-head><mj-preview>{{@preheader}}</mj-preview></mj-head>
  <mj-body>
{{{body}}}
    {{> footer}}
  </mj-body>
</mjml>
`,
  'layouts/bare.mjml': `<mjml>
  <mj-body>
{{{body}}}
    <mj-section><mj-column><mj-text>{{sender.name}}</mj-text></mj-column></mj-section>
  </mj-body>
</mjml>
`,
  'partials/footer.mjml': `<mj-section>
  <mj-column>
    <mj-text>{{sender.name}} / {{sender.address}} / {{sender.contact}} <a href="{{unsubscribe}}">Unsubscribe</a></mj-text>
  </mj-column>
</mj-section>
`,
  'partials/greeting.mjml': `<mj-section><mj-column><mj-text>Hello {{name}}</mj-text></mj-column></mj-section>
`,
};

export function template(frontMatter: string, body: string): string {
  return `---\n${frontMatter.trim()}\n---\n${body}`;
}
