import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { IngestionService } from '../ingestion/ingestion.service';
import { generateAccount } from './demo-data';

export interface SeedReport {
  accounts: number;
  messages: number;
  patterns: Record<string, number>;
}

/** Seeds demo data through the ingestion path (so rollups and dedupe behave as in production). */
@Injectable()
export class DemoService {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly clock: Clock,
  ) {}

  async seed(options: { accounts: number; days?: number; seed?: number }, onProgress: (done: number, total: number) => void = () => {}): Promise<SeedReport> {
    const report: SeedReport = { accounts: 0, messages: 0, patterns: {} };
    const opts = { accounts: options.accounts, days: options.days ?? 60, seed: options.seed ?? 42, now: this.clock.now() };
    let buffer: unknown[] = [];
    const flush = async () => {
      if (!buffer.length) return;
      const result = await this.ingestion.ingestMessages(buffer, (i) => `demo[${i}]`);
      if (result.rejected.length) throw new Error(`demo data was rejected: ${JSON.stringify(result.rejected.slice(0, 3))}`);
      report.messages += result.accepted;
      buffer = [];
    };
    const CHUNK = 50;
    for (let start = 0; start < opts.accounts; start += CHUNK) {
      const state: unknown[] = [];
      const usage: unknown[] = [];
      for (let i = start; i < Math.min(opts.accounts, start + CHUNK); i++) {
        const account = generateAccount(i, opts);
        report.accounts++;
        report.patterns[account.pattern] = (report.patterns[account.pattern] ?? 0) + 1;
        for (const m of account.messages) ((m as { type: string }).type === 'track' ? usage : state).push(m);
      }
      // Accounts and people first, then their usage, so events resolve to their accounts.
      buffer = state;
      await flush();
      for (let j = 0; j < usage.length; j += 5000) {
        buffer = usage.slice(j, j + 5000);
        await flush();
      }
      onProgress(report.accounts, opts.accounts);
    }
    return report;
  }
}
