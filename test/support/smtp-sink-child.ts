import { SMTPServer } from 'smtp-server';

/**
 * A counting SMTP sink in its own process (benchmarks): accepts everything, reads each
 * message to the end, keeps only counts. Talks to its parent over IPC: sends {port} once,
 * answers {count} to "count". Nothing per message but counting: no parsing, no logging, no
 * reverse DNS lookup per connection, no size check; it must never be what the benchmark measures.
 */
let count = 0;
let bytes = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  disableReverseLookup: true,
  hideSize: true,
  maxClients: 1000,
  onData(stream, _session, callback) {
    stream.on('data', (c: Buffer) => (bytes += c.length));
    stream.on('end', () => {
      count++;
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.server.address() as { port: number }).port });
});
process.on('message', (m) => {
  if (m === 'count') process.send!({ count, bytes });
});
process.on('disconnect', () => process.exit(0));
