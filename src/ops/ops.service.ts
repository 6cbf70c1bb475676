import { Injectable } from '@nestjs/common';
import { OpsRepository } from './ops.repository';

@Injectable()
export class OpsService {
  constructor(private readonly repo: OpsRepository) {}

  async health(): Promise<{ ok: boolean; database: 'up' | 'down'; latencyMs?: number; error?: string }> {
    const started = process.hrtime.bigint();
    try {
      await this.repo.ping();
      return { ok: true, database: 'up', latencyMs: Number(process.hrtime.bigint() - started) / 1e6 };
    } catch (err) {
      return { ok: false, database: 'down', error: (err as Error).message };
    }
  }
}
