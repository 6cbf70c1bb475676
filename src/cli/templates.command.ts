import * as fs from 'node:fs';
import * as path from 'node:path';
import { PreviewService } from '../templates/preview.service';
import { RenderedEmail } from '../templates/template-engine';
import { createEngine, validateContent } from '../templates/templates.service';
import { PreviewLinkBuilder } from '../templates/links';
import { sampleContext } from '../templates/render-context';
import { DomainError } from '../common/errors';
import { UsageError } from './args';
import type { Command } from './commands';

const USAGE = 'templates validate | templates preview NAME [--locale ja] [--contact EXTERNAL_ID | --sample] [--out DIR]';

export const templatesCommand: Command = {
  name: 'templates',
  usage: USAGE,
  summary: 'validate email templates, or render one to .html and .txt files',
  async run(args, ctx) {
    const [sub, name] = args.positionals;
    if (sub === 'validate') {
      // Pure file work: no database needed.
      const engine = createEngine(ctx.config, ctx.clock);
      const problems = await validateContent(engine, ctx.config);
      for (const p of problems) ctx.err(`${p.path}: ${p.message}`);
      const names = await engine.names();
      if (problems.length) {
        ctx.err(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${names.length} templates`);
        return 1;
      }
      ctx.out(`${names.length} templates valid: ${names.join(', ')}`);
      return 0;
    }
    if (sub !== 'preview' || !name) throw new UsageError(`usage: touchline ${USAGE}`);
    const locale = typeof args.options.locale === 'string' ? args.options.locale : undefined;
    const contact = typeof args.options.contact === 'string' ? args.options.contact : undefined;
    if (args.options.contact === true) throw new UsageError('--contact expects an external id');
    if (contact && args.options.sample) throw new UsageError('use either --contact or --sample');
    const render = async (): Promise<RenderedEmail> => {
      if (contact) {
        const app = await ctx.app();
        return app.get(PreviewService).preview({ name, locale, contact });
      }
      const engine = createEngine(ctx.config, ctx.clock);
      const l = locale ?? ctx.config.defaults.locale;
      const context = sampleContext({
        locale: l,
        sender: ctx.config.sender,
        keyFeatures: ctx.config.templates.keyFeatures,
        now: ctx.clock.now(),
        csm: args.options['no-csm'] ? null : { name: l === 'ja' ? '田中 美咲' : 'Emily Smith', email: 'csm@touchline.example', title: 'Customer Success Manager' },
      });
      return engine.render(name, l, context, new PreviewLinkBuilder());
    };
    let email: RenderedEmail;
    try {
      email = await render();
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      ctx.err(`touchline templates preview: ${err.message}`);
      for (const p of err.problems) ctx.err(`${p.path}: ${p.message}`);
      return 1;
    }
    const dir = path.resolve(typeof args.options.out === 'string' ? args.options.out : path.join(ctx.config.dataDir, 'previews'));
    fs.mkdirSync(dir, { recursive: true });
    const base = path.join(dir, `${name}.${email.locale}${contact ? '.' + contact.replace(/[^A-Za-z0-9_.-]/g, '_') : ''}`);
    fs.writeFileSync(`${base}.html`, email.html);
    fs.writeFileSync(`${base}.txt`, `Subject: ${email.subject}\nPreheader: ${email.preheader}\n\n${email.text}`);
    ctx.out(`${name} (${email.locale}, ${email.category}, version ${email.version})`);
    ctx.out(`subject: ${email.subject}`);
    ctx.out(`${base}.html`);
    ctx.out(`${base}.txt`);
    return 0;
  },
};
