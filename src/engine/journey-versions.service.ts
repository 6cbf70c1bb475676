import { Inject, Injectable, Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import { Clock } from '../common/clock';
import type { Config } from '../config/config';
import { CONFIG } from '../config/config.module';
import { Journey } from '../journeys/journey';
import { JourneysService } from '../journeys/journeys.service';
import { nextScheduleTime } from '../journeys/local-time';
import { formatProblem } from '../journeys/yaml-source';
import { journeyHash } from './content-hash';
import { JourneyVersionsRepository, StoredVersion } from './journey-versions.repository';

/** What the loader found: the valid journeys, and every file read (with whether it was valid). */
export interface LoadedJourneys {
  journeys: Journey[];
  files: { file: string; valid: boolean }[];
  problems: string[];
  /** False when the journeys directory itself is missing: then nothing is archived. */
  dirExists: boolean;
}

export interface SyncReport {
  added: string[];
  /** Journeys that got a new version (running enrollments stay on theirs). */
  updated: { key: string; version: number }[];
  unchanged: string[];
  paused: string[];
  archived: { key: string; endedEnrollments: number }[];
  /** Journeys whose file is now invalid: their last valid version keeps running. */
  keptInvalid: string[];
  problems: string[];
}

export const ARCHIVED_REASON = 'journey archived: its file was removed';

/**
 * Stores journey files as versions (on start, `journeys reload`, SIGHUP). A version is
 * immutable and identified by its content hash; new entrants take the newest, running
 * enrollments keep theirs. Status in the file pauses/resumes; a removed file archives.
 */
@Injectable()
export class JourneyVersionsService {
  private readonly log = new Logger('JourneyVersions');
  private readonly cache = new Map<string, StoredVersion>();

  constructor(
    private readonly repo: JourneyVersionsRepository,
    private readonly files: JourneysService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /**
   * Reads JOURNEYS_DIR through the journey language's validator (the same checks as
   * `touchline journeys validate`): only valid journeys are stored; the problems are reported.
   */
  async loadFiles(): Promise<LoadedJourneys> {
    const dir = this.config.journeysDir;
    const result = await this.files.validate();
    return { journeys: result.journeys, files: result.files, problems: result.problems.map(formatProblem), dirExists: fs.existsSync(dir) && fs.statSync(dir).isDirectory() };
  }

  async reload(): Promise<SyncReport> {
    const report = await this.sync(await this.loadFiles());
    this.log.log(
      `journeys reloaded: ${report.added.length} added, ${report.updated.length} new versions, ${report.unchanged.length} unchanged, ` +
        `${report.archived.length} archived, ${report.problems.length} problems`,
    );
    for (const p of report.problems) this.log.warn(p);
    return report;
  }

  async sync(loaded: LoadedJourneys): Promise<SyncReport> {
    const now = this.clock.now();
    const report: SyncReport = { added: [], updated: [], unchanged: [], paused: [], archived: [], keptInvalid: [], problems: loaded.problems };
    await this.repo.transaction(async (tx) => {
      const before = new Map((await this.repo.all(tx)).map((j) => [j.key, j]));
      for (const journey of loaded.journeys) {
        const prev = before.get(journey.key);
        const { versionId, version, created } = await this.repo.store(tx, journey, journeyHash(journey), now);
        if (!prev) report.added.push(journey.key);
        else if (created || prev.currentVersionId !== versionId) report.updated.push({ key: journey.key, version });
        else report.unchanged.push(journey.key);
        if (journey.status === 'paused') report.paused.push(journey.key);
        if (journey.trigger.type === 'event') await this.repo.initEventCursor(tx, journey.key, now);
        if (journey.trigger.type === 'schedule') {
          // A new schedule (or a first load) starts counting from now.
          const changed = !prev || prev.currentVersionId !== versionId || prev.status === 'archived';
          if (changed || !prev.nextFireAt) await this.repo.setNextFire(tx, journey.key, nextScheduleTime(journey.trigger.schedule, new Date(now.getTime() - 1), this.config.defaults.timezone) ?? null);
        } else await this.repo.setNextFire(tx, journey.key, null);
      }
      const loadedKeys = new Set(loaded.journeys.map((j) => j.key));
      const invalidFiles = new Set(loaded.files.filter((f) => !f.valid).map((f) => f.file));
      for (const prev of before.values()) {
        if (loadedKeys.has(prev.key) || prev.status === 'archived') continue;
        if (!loaded.dirExists || (prev.source && invalidFiles.has(prev.source))) {
          report.keptInvalid.push(prev.key);
          continue;
        }
        report.archived.push({ key: prev.key, endedEnrollments: await this.repo.archive(tx, prev.key, ARCHIVED_REASON, now) });
      }
    });
    return report;
  }

  async setStatus(key: string, status: 'active' | 'paused'): Promise<void> {
    await this.repo.setStatus(key, status, this.clock.now());
  }

  /** Versions by id, cached (they never change). */
  async versions(ids: string[]): Promise<Map<string, StoredVersion>> {
    const missing = [...new Set(ids)].filter((id) => !this.cache.has(id));
    for (const v of await this.repo.versions(missing)) this.cache.set(v.id, v);
    return new Map(ids.filter((id) => this.cache.has(id)).map((id) => [id, this.cache.get(id)!]));
  }

  async version(id: string): Promise<StoredVersion | undefined> {
    return (await this.versions([id])).get(id);
  }
}
