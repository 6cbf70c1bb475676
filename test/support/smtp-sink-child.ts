import { SMTPServer } from 'smtp-server';

/**
 * A counting SMTP sink in its own process (benchmarks): accepts everything, reads each
 * message to the end, keeps only counts and the Message-IDs seen (to count duplicate
 * deliveries). Talks to its parent over IPC: sends {port} once, answers {count, bytes} to
 * "count" and {count, bytes, unique, duplicates} to "stats". Nothing else per message: no
 * logging, no reverse DNS lookup per connection, no size check; it must never be what the
 * benchmark measures.
 */
let count = 0;
let bytes = 0;
let duplicates = 0;
const seen = new Set<string>();
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  disableReverseLookup: true,
  hideSize: true,
  maxClients: 1000,
  onData(stream, _session, callback) {
    let head = '';
    stream.on('data', (c: Buffer) => {
      bytes += c.length;
      if (head.length < 16384 && !head.includes('\r\n\r\n')) head += c.toString('latin1');
    });
    stream.on('end', () => {
      count++;
      const id = /^message-id:\s*(\S+)/im.exec(head.split('\r\n\r\n')[0])?.[1];
      if (id) {
        if (seen.has(id)) duplicates++;
        else seen.add(id);
      }
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.server.address() as { port: number }).port });
});
process.on('message', (m) => {
  if (m === 'count') process.send!({ count, bytes });
  if (m === 'stats') process.send!({ count, bytes, unique: seen.size, duplicates });
});
process.on('disconnect', () => process.exit(0));
