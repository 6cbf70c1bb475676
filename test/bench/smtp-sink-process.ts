import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';

export interface SinkProcess {
  url: string;
  count(): Promise<number>;
  stop(): void;
}

/** The counting SMTP sink (test/support/smtp-sink-child) in its own process, so it does not share the sender's CPU time. */
export async function startSinkProcess(): Promise<SinkProcess> {
  const child: ChildProcess = fork(path.join(__dirname, '..', 'support', 'smtp-sink-child.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`sink exited with ${code}`)));
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    count: () =>
      new Promise((resolve) => {
        child.once('message', (m: { count: number }) => resolve(m.count));
        child.send('count');
      }),
    stop: () => child.kill(),
  };
}
