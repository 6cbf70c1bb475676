/** Minimal argument parsing: positionals and `--name value` / `--flag` options. */
export interface Args {
  positionals: string[];
  options: Record<string, string | true>;
}

export function parseArgs(argv: string[]): Args {
  const positionals: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) options[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) options[a.slice(2)] = argv[++i];
      else options[a.slice(2)] = true;
    } else positionals.push(a);
  }
  return { positionals, options };
}

export class UsageError extends Error {}

export function intOption(args: Args, name: string, fallback: number): number {
  const v = args.options[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n < 0) throw new UsageError(`--${name} expects a whole number (got ${v === true ? 'nothing' : v})`);
  return n;
}
