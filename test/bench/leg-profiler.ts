import * as fs from 'node:fs';
import * as path from 'node:path';
import { Session } from 'node:inspector/promises';

/**
 * `--cpu-prof DIR` for benchmarks that alternate sides in legs: profiles only the timed part of
 * each leg (V8's sampling profiler in this process) and writes `<side>-leg<n>.cpuprofile` files
 * to DIR, so the sides' profiles can be compared without setup or seeding in them.
 */
export async function legProfiler(dir: string | undefined) {
  if (!dir) return { start: async () => undefined, stop: async (_name: string) => undefined, close: () => undefined };
  fs.mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  return {
    start: async () => void (await session.post('Profiler.start')),
    stop: async (name: string) => {
      const { profile } = await session.post('Profiler.stop');
      fs.writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    },
    close: () => session.disconnect(),
  };
}
