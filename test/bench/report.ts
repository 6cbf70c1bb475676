/** Benchmark output contract: JSON lines, ending with one summary line. */
export interface Summary {
  bench: string;
  value: number;
  unit: string;
  /** Measured in the same run. */
  baseline: number;
  ratio: number;
  target: string;
  [extra: string]: unknown;
}

export function line(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

export function summary(s: Summary): void {
  line(s);
}

/** Peak RSS sampler for the current process. */
export function rssSampler(intervalMs = 200) {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), intervalMs);
  timer.unref();
  return {
    peakMb: () => Math.round((Math.max(peak, process.memoryUsage.rss()) / 1048576) * 10) / 10,
    stop: () => clearInterval(timer),
  };
}

/** `--name value` from a benchmark's arguments. */
export function option(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}

/** `--name N` as a number, or `def`. */
export function numberOption(args: string[], name: string, def: number): number {
  return Number(option(args, name, String(def)));
}
