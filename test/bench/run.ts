import 'reflect-metadata';

/** `npm run bench -- <name>`: each benchmark is a module exporting `run(args)`. */
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  ingest: () => import('./ingest.bench'),
  deliver: () => import('./deliver.bench'),
  engine: () => import('./engine.bench'),
  tracking: () => import('./tracking.bench'),
  render: () => import('./render.bench'),
  health: () => import('./health.bench'),
  console: () => import('./console.bench'),
  soak: () => import('./soak.bench'),
  scaleout: () => import('./scaleout.bench'),
};

async function main() {
  const [name, ...args] = process.argv.slice(2);
  const load = name ? benches[name] : undefined;
  if (!load) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}>\n`);
    process.exit(64);
  }
  await (await load()).run(args);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
