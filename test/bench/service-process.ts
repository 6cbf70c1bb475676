import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEST_KEYS } from '../support/app';
import { freePort } from '../support/ports';

/** The repository root, whether this runs built (dist/test/bench) or from source (jest). */
const ROOT = ((dir: string) => {
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})(__dirname);

export interface ServiceProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** What the service printed until it said it was running. */
  startupOutput: string;
  rssMb(): number;
  stop(): Promise<void>;
}

/** Runs the built service (dist/src/main.js) as its own process, as in production. */
export async function startService(databaseUrl: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServiceProcess> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-bench-data-'));
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      DEMO_SEED: 'false',
      TOUCHLINE_INGEST_KEY: TEST_KEYS.ingest,
      TOUCHLINE_AUTHOR_KEY: TEST_KEYS.author,
      TOUCHLINE_REVIEW_KEY: TEST_KEYS.review,
      TOUCHLINE_ADMIN_KEY: TEST_KEYS.admin,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const startupOutput = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`service did not start: ${out}`)), 180_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Touchline is running')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.on('exit', (code) => reject(new Error(`service exited with ${code}: ${out}`)));
  });
  child.stdout!.resume();
  return {
    url,
    pid: child.pid!,
    child,
    startupOutput,
    rssMb: () => {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return Math.round(kb / 102.4) / 10;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          fs.rmSync(dataDir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}
