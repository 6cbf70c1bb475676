import { Inject, Injectable, Logger } from '@nestjs/common';
import * as path from 'node:path';
import { loadTeamDirectory } from '../accounts/team-directory';
import { Clock } from '../common/clock';
import { NotFound, Problem } from '../common/errors';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import type { CompiledTemplate } from './compile';
import { ContextNeeds, contextNeeds } from './context-subset';
import type { LinkBuilder } from './links';
import { RenderContext, sampleContext } from './render-context';
import { RenderedEmail, TemplateEngine, TemplateInfo } from './template-engine';
import { TemplatesRepository } from './templates.repository';

export type { RenderedEmail, TemplateInfo } from './template-engine';

/**
 * Email content for the rest of Touchline: render a template for a recipient, re-render a
 * stored version exactly, list, describe and validate templates. Each version's sources are
 * stored (template_versions) the first time it is rendered, before its first message exists.
 */
@Injectable()
export class TemplatesService {
  private readonly log = new Logger('templates');
  readonly engine: TemplateEngine;
  private readonly stored = new Set<string>();

  constructor(
    private readonly repo: TemplatesRepository,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.engine = createEngine(config, clock);
  }

  async render(name: string, locale: string, context: RenderContext, links: LinkBuilder): Promise<RenderedEmail> {
    const compiled = await this.engine.get(name);
    if (!this.stored.has(compiled.version)) await this.store(compiled);
    return this.engine.renderCompiled(compiled, locale, context, links);
  }

  /** Re-renders a stored version (from memory, or compiled from its stored sources). */
  async renderVersion(version: string, locale: string | undefined, context: RenderContext, links: LinkBuilder): Promise<RenderedEmail> {
    const compiled = this.engine.compiledVersion(version) ?? (await this.compileStored(version));
    return this.engine.renderCompiled(compiled, locale ?? context.contact.locale, context, links);
  }

  /** A stored version's compiled form (without reading the database when this process has it compiled: pinned messages). */
  private async compileStored(version: string): Promise<CompiledTemplate> {
    const row = await this.repo.find(version);
    if (!row) throw new NotFound(`template version ${version} not found`);
    return this.engine.fromSources(version, row.template, row.sources);
  }

  /**
   * For a message to pin: the template's current version, stored (template_versions) before
   * the message exists, and what the message's render context must hold to re-render it
   * (`contextNeeds`). Throws like `render` for a missing template or one with errors.
   */
  async pin(name: string): Promise<{ version: string; needs: ContextNeeds }> {
    const compiled = await this.engine.get(name);
    if (!this.stored.has(compiled.version)) await this.store(compiled);
    return { version: compiled.version, needs: contextNeeds(compiled) };
  }

  names(): Promise<string[]> {
    return this.engine.names();
  }

  info(name: string): Promise<TemplateInfo> {
    return this.engine.info(name);
  }

  /** Every problem in the template files, features.yaml and team.yaml, each with `file:line:col`. */
  validate(): Promise<Problem[]> {
    return validateContent(this.engine, this.config);
  }

  /** Sample data for previews, in the template's locale. */
  sample(locale: string, withCsm = false): RenderContext {
    return sampleContext({
      locale,
      sender: { ...this.config.sender },
      keyFeatures: this.config.templates.keyFeatures,
      now: this.clock.now(),
      csm: withCsm ? { name: locale === 'ja' ? '田中 美咲' : 'Emily Smith', email: 'csm@touchline.example', title: 'Customer Success Manager' } : null,
    });
  }

  private async store(c: CompiledTemplate): Promise<void> {
    await this.repo.save({ version: c.version, template: c.name, category: c.category, locales: [...c.locales.keys()], sources: c.sources }, this.clock.now());
    this.stored.add(c.version);
    this.log.log(`template ${c.name} version ${c.version} stored`);
  }
}

/** The engine for a config; the CLI uses it directly to validate without a database. */
export function createEngine(config: Config, clock: Clock): TemplateEngine {
  return new TemplateEngine({
    dir: config.templatesDir,
    displayRoot: displayPath(config.templatesDir),
    defaultLocale: config.defaults.locale,
    defaultTimezone: config.defaults.timezone,
    keyFeatures: config.templates.keyFeatures,
    sender: { ...config.sender },
    reloadMs: config.templates.reloadMs,
    now: () => clock.now(),
  });
}

/** Template files, features.yaml and team.yaml problems, each with `file:line:col`. */
export async function validateContent(engine: TemplateEngine, config: Config): Promise<Problem[]> {
  const problems = await engine.validate();
  const team = loadTeamDirectory(config.templates.teamFile, displayPath(config.templates.teamFile));
  if (!team.ok) problems.push(...team.problems);
  return problems;
}

function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
