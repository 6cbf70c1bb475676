import { Injectable } from '@nestjs/common';
import { Db } from '../database/db';

export interface StoredVersion {
  version: string;
  template: string;
  category: string;
  locales: string[];
  sources: Record<string, string>;
}

/** template_versions: sources of every version by content hash (written once, never changed). */
@Injectable()
export class TemplatesRepository {
  constructor(private readonly db: Db) {}

  async save(v: StoredVersion, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO template_versions (version, template, category, locales, sources, created_at)
       VALUES ($1, $2, $3, $4::text[], $5::jsonb, $6) ON CONFLICT (version) DO NOTHING`,
      [v.version, v.template, v.category, v.locales, JSON.stringify(v.sources), at],
    );
  }

  async find(version: string): Promise<StoredVersion | undefined> {
    const [row] = await this.db.query<StoredVersion>('SELECT version, template, category, locales, sources FROM template_versions WHERE version = $1', [version]);
    return row;
  }
}
