import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Received } from '../support/mail';

/** Shared by the fault scenarios: counting what the sink received and printing each scenario's counts. */

export const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'faults');

/** One JSON line per scenario on stdout (and in test-artifacts/faults/<scenario>.json). */
export function printCounts(scenario: string, counts: Record<string, unknown>): void {
  const line = JSON.stringify({ scenario, ...counts });
  process.stdout.write(`${line}\n`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS, `${scenario}.json`), line + '\n');
}

export const outboxIdOf = (raw: string): string | undefined => /^X-Touchline-Message-Id: (\d+)\r?$/im.exec(raw)?.[1];
export const messageIdHeaderOf = (raw: string): string | undefined => /^Message-ID: (.*?)\r?$/im.exec(raw)?.[1];

/** How many copies of each outbox message arrived, and the Message-ID headers each copy carried. */
export function arrivals(received: Received[]): Map<string, { copies: number; messageIds: Set<string> }> {
  const out = new Map<string, { copies: number; messageIds: Set<string> }>();
  for (const r of received) {
    const id = outboxIdOf(r.raw);
    if (!id) throw new Error(`the sink received a message without X-Touchline-Message-Id: ${r.raw.slice(0, 200)}`);
    const a = out.get(id) ?? { copies: 0, messageIds: new Set<string>() };
    a.copies++;
    a.messageIds.add(messageIdHeaderOf(r.raw) ?? '');
    out.set(id, a);
  }
  return out;
}

/** Rows grouped as {key: count}. */
export function tally<T extends Record<string, unknown>>(rows: T[], key: keyof T, n: keyof T = 'n' as keyof T): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[String(r[key])] = (out[String(r[key])] ?? 0) + Number(r[n]);
  return out;
}

/** A small seeded PRNG (the demo's mulberry32): a failing run can be replayed with FAULTS_SEED. */
export { rng as prng } from '../../src/demo/demo-data';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `done` until it is true or `ms` passes; returns whether it became true. */
export async function waitFor(done: () => Promise<boolean>, ms: number, every = 250): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await done()) return true;
    await sleep(every);
  }
  return done();
}

/** Environment variables the fault tests read (counts can be scaled down for a quick local run). */
export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer (got "${v}")`);
  return n;
}
