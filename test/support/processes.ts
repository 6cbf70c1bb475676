import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Real service processes for scale-out, crash and fault tests: `node dist/src/main.js` with
 * TOUCHLINE_ROLE=worker (engine loops + dispatcher), and the standalone dispatcher child.
 * Both are built by `npm run build` (npm test and npm run test:faults build first).
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** The same keys as test/support/app.ts TEST_KEYS (kept here so this file has no app import). */
const KEYS_ENV = {
  TOUCHLINE_INGEST_KEY: 'test-ingest-key-0123456789',
  TOUCHLINE_AUTHOR_KEY: 'test-author-key-0123456789',
  TOUCHLINE_REVIEW_KEY: 'test-review-key-0123456789',
  TOUCHLINE_ADMIN_KEY: 'test-admin-key-01234567890',
};

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it printed (stdout and stderr). */
  output(): string;
  /** Resolves once it has exited (by itself or killed). */
  exited: Promise<void>;
}

function launch(script: string, env: Record<string, string>, readyText: string, what: string): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...KEYS_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const proc: ServiceProcess = { child, pid: child.pid!, output: () => out, exited };
  return new Promise((resolve, reject) => {
    let ready = false;
    // Generous: on a saturated 2-core machine a cold start (migrations check, template compile) can take minutes.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within 240 s: ${out}`));
    }, 240_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
      if (!ready && out.includes(readyText)) {
        ready = true;
        clearTimeout(timer);
        resolve(proc);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${what} exited (${code ?? signal}) before it was ready: ${out}`));
    });
  });
}

/** A `TOUCHLINE_ROLE=worker` service process (engine loops and the dispatcher); `env` overrides. */
export function startWorker(databaseUrl: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-worker-'));
  return launch(
    path.join(ROOT, 'dist', 'src', 'main.js'),
    { TOUCHLINE_ROLE: 'worker', DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '3', DATA_DIR: dataDir, LOG_LEVEL: 'warn', DEMO_SEED: 'false', ...env },
    'Touchline is running',
    'worker',
  );
}

/** test/support/dispatcher-child.ts in its own process: dispatcher rounds until killed. */
export function startDispatcherChild(databaseUrl: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const script = path.join(ROOT, 'dist', 'test', 'support', 'dispatcher-child.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run npm run build first`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-dispatcher-'));
  return launch(script, { DATABASE_URL: databaseUrl, DATA_DIR: dataDir, LOG_LEVEL: 'error', TOUCHLINE_ROLE: 'api', ...env }, 'ready', 'dispatcher child');
}

/** kill -9, and wait until the process is gone. */
export async function killHard(p: ServiceProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}

export function isAlive(p: ServiceProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}
