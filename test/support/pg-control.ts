import { EmbeddedPostgres } from '../../src/database/embedded-postgres';

/**
 * `node dist/test/support/pg-control.js start|stop DIR PORT PASSWORD`: starts or stops (fast
 * shutdown) an embedded PostgreSQL through src/database/embedded-postgres.ts. Tests that
 * restart a server of their own run it in a plain node process, because the embedded
 * binaries' package is an ES module that Jest's module loader cannot require on Node 20.
 */
const [command, dir, port, password] = process.argv.slice(2);
const server = new EmbeddedPostgres({
  dir,
  port: Number(port),
  password,
  settings: { fsync: 'off', full_page_writes: 'off', shared_buffers: '128MB', max_connections: 100 },
});
const work = command === 'start' ? server.start() : command === 'stop' ? server.stop({ force: true }) : Promise.reject(new Error(`unknown command "${command}": expected start or stop`));
work.then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`pg-control ${command}: ${err.message}\n`);
    process.exit(1);
  },
);
