import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';

export interface SinkStats {
  count: number;
  bytes: number;
  /** Distinct Message-IDs received. */
  unique: number;
  /** Messages whose Message-ID had been received before. */
  duplicates: number;
}

export interface SinkProcess {
  url: string;
  pid: number;
  count(): Promise<number>;
  stats(): Promise<SinkStats>;
  stop(): void;
}

/** The counting SMTP sink (test/support/smtp-sink-child) in its own process, so it does not share the sender's CPU time. */
export async function startSinkProcess(): Promise<SinkProcess> {
  const child: ChildProcess = fork(path.join(__dirname, '..', 'support', 'smtp-sink-child.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`sink exited with ${code}`)));
  });
  const ask = <T>(what: string) =>
    new Promise<T>((resolve) => {
      child.once('message', (m: T) => resolve(m));
      child.send(what);
    });
  return {
    url: `smtp://127.0.0.1:${port}`,
    pid: child.pid!,
    count: async () => (await ask<{ count: number }>('count')).count,
    stats: () => ask<SinkStats>('stats'),
    stop: () => child.kill(),
  };
}
