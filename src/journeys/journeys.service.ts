import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Clock, utcDay } from '../common/clock';
import { InvalidInput, NotFound } from '../common/errors';
import { runsWorkers, type Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { SignalsService } from '../signals/signals.service';
import { Journey, Segment } from './journey';
import { loadJourneyFiles, LoadResult, templateNamesIn } from './journey-files';
import { JourneysRepository } from './journeys.repository';
import { simulateJourney, SimulationReport } from './simulate';
import { formatProblem } from './yaml-source';

/**
 * Template names, from a function the templates capability can replace (TemplatesService.names()).
 * Until templates exist on disk, names are not checked (null) rather than all reported unknown.
 */
export abstract class TemplateNames {
  abstract names(): Promise<ReadonlySet<string> | null>;
}

export class DirectoryTemplateNames extends TemplateNames {
  constructor(private readonly dir: string) {
    super();
  }
  async names(): Promise<ReadonlySet<string> | null> {
    const names = templateNamesIn(this.dir);
    return names.size ? names : null;
  }
}

@Injectable()
export class JourneysService implements OnApplicationBootstrap {
  private readonly log = new Logger('journeys');

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly repo: JourneysRepository,
    private readonly signals: SignalsService,
    private readonly templates: TemplateNames,
  ) {}

  /** Validation at service start: problems are logged, never fatal (valid journeys keep running). */
  async onApplicationBootstrap(): Promise<void> {
    if (!runsWorkers(this.config)) return;
    try {
      const { journeys } = await this.load();
      this.log.log(`${journeys.length} valid journey(s) in ${this.config.journeysDir}`);
    } catch (e) {
      this.log.error(`journey files could not be read: ${(e as Error).message}`);
    }
  }

  /** Validates journey files (all of them, or `paths`) against known templates and events. */
  async validate(paths?: string[]): Promise<LoadResult & { templatesChecked: boolean }> {
    const templates = await this.templates.names();
    const events = new Set(await this.signals.knownEventNames());
    // With no events recorded yet (a fresh install) event names cannot be checked.
    const result = loadJourneyFiles(this.config.journeysDir, { paths, templates, events: events.size ? events : null });
    return { ...result, templatesChecked: templates !== null };
  }

  /** The valid journeys now; invalid files are logged and left out (the others keep running). */
  async load(): Promise<{ journeys: Journey[]; segments: Segment[] }> {
    const r = await this.validate();
    for (const p of r.problems) this.log.warn(formatProblem(p));
    return { journeys: r.journeys, segments: r.segments };
  }

  async segmentCount(name: string): Promise<{ segment: Segment; accounts: number; contacts: number; asOf: string }> {
    const { segments, problems } = await this.validate();
    const segment = segments.find((s) => s.name === name);
    if (!segment) {
      const bad = problems.filter((p) => p.file.endsWith(`segments/${name}.yaml`));
      if (bad.length) throw new InvalidInput(`segment "${name}" is invalid`, bad.map((p) => ({ path: `${p.file}:${p.line}:${p.col}`, message: p.message })));
      throw new NotFound(`no segment "${name}" (known: ${segments.map((s) => s.name).join(', ') || 'none'})`);
    }
    const asOf = utcDay(this.clock.now());
    return { segment, asOf, ...(await this.repo.segmentCount(segment.subject, segment.condition, asOf)) };
  }

  async simulate(key: string, opts: { days: number; asOf?: Date; contact?: string }): Promise<SimulationReport> {
    const r = await this.validate();
    const journey = r.journeys.find((j) => j.key === key);
    if (!journey) {
      const bad = r.problems.filter((p) => (r.files.find((f) => f.file === p.file) ? true : false));
      const known = r.journeys.map((j) => j.key).join(', ');
      throw new NotFound(`no valid journey "${key}" (valid: ${known || 'none'})${bad.length ? `; ${bad.length} problem(s) in journey files` : ''}`);
    }
    const trace: string[] = [];
    if (opts.contact) {
      const contactId = await this.repo.idOf('contact', opts.contact);
      if (!contactId) throw new NotFound(`no contact "${opts.contact}"`);
      const id = journey.subject.type === 'contact' ? contactId : await this.repo.primaryAccountOf(contactId);
      if (!id) throw new NotFound(`contact "${opts.contact}" has no account`);
      trace.push(id);
    }
    return simulateJourney(journey, this.repo, { asOf: opts.asOf ?? this.clock.now(), days: opts.days, defaultTimezone: this.config.defaults.timezone, trace });
  }
}
