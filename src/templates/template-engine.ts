import { performance } from 'node:perf_hooks';
import { InvalidInput, NotFound, Problem } from '../common/errors';
import { CompiledLocale, CompiledTemplate, compileTemplate, normalizeText, planTemplate } from './compile';
import { checkCompliance } from './compliance';
import { createHandlebars, FeatureInfo, RenderData } from './helpers';
import { LinkBuilder, PreviewLinkBuilder } from './links';
import { RenderContext, sampleContext } from './render-context';
import { Category, FEATURES_FILE, parseFeatures, readSourceDir, SourceProblem, SourceSet, templateLocales } from './template-sources';

export interface RenderedEmail {
  template: string;
  /** Content hash of the template's files (all locales, layout, partials, features.yaml). */
  version: string;
  /** The locale rendered, after fallback. */
  locale: string;
  category: Category;
  subject: string;
  preheader: string;
  html: string;
  text: string;
}

export interface TemplateInfo {
  name: string;
  version: string;
  category: Category;
  locales: string[];
  /** Declared in front matter (`variables:`), per template. */
  variables: string[];
  /** Context paths the template actually reads (body, layout, partials, subject). */
  uses: string[];
  description?: string;
}

export interface EngineOptions {
  dir: string;
  /** How file paths are shown in problems, e.g. "templates". */
  displayRoot: string;
  defaultLocale: string;
  defaultTimezone: string;
  keyFeatures: string[];
  sender: RenderContext['sender'];
  /** Re-read the files at most this often (0: before every render). */
  reloadMs: number;
  now: () => Date;
}

interface Entry {
  name: string;
  version: string;
  compiled?: CompiledTemplate;
  problems: SourceProblem[];
}

interface Snapshot {
  entries: Map<string, Entry>;
  features: Record<string, FeatureInfo>;
  featureProblems: SourceProblem[];
}

/**
 * Compiles templates once per content hash and renders them per recipient. No framework and
 * no database: TemplatesService adds version storage; the benchmark drives this directly too.
 */
export class TemplateEngine {
  private readonly hb = createHandlebars();
  private readonly byVersion = new Map<string, CompiledTemplate>();
  private snapshot?: Snapshot;
  /** The files the snapshot was built from. */
  private sources?: SourceSet;
  private loadedAt = -Infinity;
  private loading?: Promise<Snapshot>;
  /** Snapshots built from files (a reload that found every file unchanged builds none). */
  builds = 0;

  constructor(private readonly o: EngineOptions) {}

  /**
   * Re-reads the files when the reload interval has passed (`force`: now); unchanged templates
   * keep their compiled form, and when no file changed at all the snapshot is kept as it is.
   */
  async current(force = false): Promise<Snapshot> {
    if (!force && this.snapshot && performance.now() - this.loadedAt < this.o.reloadMs) return this.snapshot;
    this.loading ??= this.load(force).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(force: boolean): Promise<Snapshot> {
    const started = performance.now();
    const set = readSourceDir(this.o.dir);
    // Parsing, planning (a hash over every file) and the features file were redone on every
    // reload, every 2 s while mail is being sent; files that read back the same give the same snapshot.
    if (!force && this.snapshot && this.sources && sameSources(set, this.sources)) {
      this.loadedAt = started;
      return this.snapshot;
    }
    const snapshot = await this.build(set);
    this.builds++;
    this.snapshot = snapshot;
    this.sources = set;
    this.loadedAt = started;
    return snapshot;
  }

  private async build(set: SourceSet, only?: string): Promise<Snapshot> {
    const { features, problems: featureProblems } = parseFeatures(set.get(FEATURES_FILE));
    const entries = new Map<string, Entry>();
    for (const [name, locales] of templateLocales(set)) {
      if (only && name !== only) continue;
      const plan = planTemplate(name, set, locales);
      const known = this.byVersion.get(plan.version);
      if (known) {
        entries.set(name, { name, version: plan.version, compiled: known, problems: [] });
        continue;
      }
      const { compiled, problems } = await compileTemplate(this.hb, plan, set, features);
      if (compiled) problems.push(...this.sampleChecks(compiled, set));
      const ok = compiled && !problems.length;
      if (ok) this.byVersion.set(plan.version, compiled);
      entries.set(name, { name, version: plan.version, compiled: ok ? compiled : undefined, problems });
    }
    return { entries, features, featureProblems };
  }

  /** Every locale must render with sample data (with and without a CSM); marketing mail must pass compliance. */
  private sampleChecks(compiled: CompiledTemplate, set: SourceSet): SourceProblem[] {
    const problems: SourceProblem[] = [];
    for (const loc of compiled.locales.values()) {
      for (const csm of [null, { name: 'Sample CSM', email: 'csm@example.com', title: 'CSM' }]) {
        const context = sampleContext({ locale: loc.locale, sender: this.o.sender, keyFeatures: this.o.keyFeatures, now: this.o.now(), csm });
        const links = new PreviewLinkBuilder();
        let email: RenderedEmail;
        try {
          email = this.renderLocale(compiled, loc, context, links);
        } catch (err) {
          problems.push({ file: loc.file, line: 1, col: 1, message: `fails to render with sample data: ${(err as Error).message}` });
          break;
        }
        if (!email.subject.trim()) problems.push({ file: loc.file, line: loc.parsed.fm.subjectLine, col: 1, message: 'subject renders empty with sample data' });
        const found = checkCompliance({ compiled: loc, html: email.html, text: email.text, sender: this.o.sender, unsubscribeUrl: links.unsubscribe() }, (f) => set.get(f) ?? '');
        problems.push(...found);
        if (found.length) break;
      }
    }
    return problems;
  }

  private format(p: SourceProblem): Problem {
    return { path: `${this.o.displayRoot}/${p.file}:${p.line}:${p.col}`, message: p.message };
  }

  async validate(): Promise<Problem[]> {
    const snap = await this.current(true);
    const problems = [...snap.featureProblems];
    for (const key of this.o.keyFeatures) {
      if (!snap.features[key] && this.hasFeaturesFile(snap)) problems.push({ file: FEATURES_FILE, line: 1, col: 1, message: `key feature "${key}" (KEY_FEATURES) has no entry: add its name per locale` });
    }
    for (const e of snap.entries.values()) problems.push(...e.problems);
    return problems.map((p) => this.format(p));
  }

  private hasFeaturesFile(snap: Snapshot): boolean {
    return Object.keys(snap.features).length > 0 || snap.featureProblems.length > 0;
  }

  async names(): Promise<string[]> {
    return [...(await this.current()).entries.keys()].sort();
  }

  /** The compiled current version of a template; invalid files are an InvalidInput with every problem. */
  async get(name: string): Promise<CompiledTemplate> {
    const entry = (await this.current()).entries.get(name);
    if (!entry) throw new NotFound(`template "${name}" not found (expected ${this.o.displayRoot}/${name}/<locale>.mjml)`);
    if (!entry.compiled) throw new InvalidInput(`template "${name}" has errors`, entry.problems.map((p) => this.format(p)));
    return entry.compiled;
  }

  async info(name: string): Promise<TemplateInfo> {
    const c = await this.get(name);
    const locales = [...c.locales.values()];
    return {
      name,
      version: c.version,
      category: c.category,
      locales: locales.map((l) => l.locale),
      variables: [...new Set(locales.flatMap((l) => l.variables))].sort(),
      uses: [...new Set(locales.flatMap((l) => l.uses))].sort(),
      ...(locales[0]?.parsed.fm.description ? { description: locales[0].parsed.fm.description } : {}),
    };
  }

  /** A version this process has compiled (current or stored), if any. */
  compiledVersion(version: string): CompiledTemplate | undefined {
    return this.byVersion.get(version);
  }

  /** A stored version, compiled from its own sources (cached like any other version). */
  async fromSources(version: string, name: string, sources: Record<string, string>): Promise<CompiledTemplate> {
    const known = this.byVersion.get(version);
    if (known) return known;
    const set: SourceSet = new Map(Object.entries(sources));
    const snap = await this.build(set, name);
    const entry = snap.entries.get(name);
    if (!entry?.compiled) throw new InvalidInput(`stored template version ${version} does not compile`, (entry?.problems ?? []).map((p) => this.format(p)));
    // The hash covers the same files, so a stored version re-plans to itself.
    this.byVersion.set(version, entry.compiled);
    return entry.compiled;
  }

  async render(name: string, locale: string, context: RenderContext, links: LinkBuilder): Promise<RenderedEmail> {
    return this.renderCompiled(await this.get(name), locale, context, links);
  }

  /** The per-recipient work: three small Handlebars passes and the text part's. Synchronous. */
  renderCompiled(compiled: CompiledTemplate, locale: string, context: RenderContext, links: LinkBuilder): RenderedEmail {
    return this.renderLocale(compiled, this.resolveLocale(compiled, locale), context, links);
  }

  resolveLocale(compiled: CompiledTemplate, locale: string | undefined): CompiledLocale {
    const want = (locale || this.o.defaultLocale).toLowerCase();
    return (
      compiled.locales.get(want) ??
      compiled.locales.get(want.split('-')[0]) ??
      compiled.locales.get(this.o.defaultLocale) ??
      compiled.locales.get('en') ??
      [...compiled.locales.values()][0]
    );
  }

  private renderLocale(compiled: CompiledTemplate, loc: CompiledLocale, context: RenderContext, links: LinkBuilder): RenderedEmail {
    const tl: RenderData = {
      locale: loc.locale,
      timezone: context.contact?.timezone || this.o.defaultTimezone,
      links,
      features: compiled.features,
      defaultLocale: this.o.defaultLocale,
      memo: new Map(),
    };
    const data = { tl, preheader: '' };
    const subject = loc.subject(context, data).replace(/\s+/g, ' ').trim();
    const preheader = loc.preheader(context, data).trim();
    const html = loc.html(context, { tl, preheader });
    const text = normalizeText(loc.text(context, data)).trim() + '\n';
    return { template: compiled.name, version: compiled.version, locale: loc.locale, category: compiled.category, subject, preheader, html, text };
  }
}

function sameSources(a: SourceSet, b: SourceSet): boolean {
  if (a.size !== b.size) return false;
  for (const [file, text] of a) if (b.get(file) !== text) return false;
  return true;
}
