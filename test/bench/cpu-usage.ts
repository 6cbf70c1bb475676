import * as fs from 'node:fs';

/**
 * CPU seconds spent by processes (from /proc, Linux), so a benchmark can report the cost per
 * unit of work: unlike a rate, it barely moves when other work shares the machine.
 */
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Stat {
  ppid: number;
  /** utime + stime of the process itself. */
  own: number;
  /** cutime + cstime: its children that have exited and been waited for. */
  reaped: number;
}

function stat(pid: number, file = `/proc/${pid}/stat`): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces) start at state (field 3).
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
}

/** CPU seconds of `pid` alone. */
export function processCpuSeconds(pid: number): number {
  return (stat(pid)?.own ?? 0) / TICKS_PER_SECOND;
}

/**
 * CPU seconds of one thread of `pid`, by default its main thread (the JavaScript thread of a
 * Node process; the process's figure adds the garbage collector's and libuv's threads).
 */
export function threadCpuSeconds(pid: number, tid = pid): number {
  return (stat(pid, `/proc/${pid}/task/${tid}/stat`)?.own ?? 0) / TICKS_PER_SECOND;
}

/** CPU seconds of `pid` and all its children, live or exited (a postmaster and its backends). */
export function treeCpuSeconds(pid: number): number {
  const root = stat(pid);
  if (!root) return 0;
  let ticks = root.own + root.reaped;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s && s.ppid === pid) ticks += s.own;
  }
  return ticks / TICKS_PER_SECOND;
}

/** Reads CPU seconds before and after a phase: `sample()` returns the seconds used since `start()`. */
export function cpuMeter(read: () => number) {
  let start = read();
  return {
    restart: () => (start = read()),
    used: () => Math.round((read() - start) * 100) / 100,
  };
}
