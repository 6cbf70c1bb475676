import * as net from 'node:net';

/**
 * A counting SMTP sink in its own process (benchmarks): accepts everything, reads each
 * message to its end (`<CRLF>.<CRLF>`), keeps only counts and the Message-IDs seen (to count
 * duplicate deliveries). Talks to its parent over IPC: sends {port} once, answers
 * {count, bytes} to "count" and {count, bytes, unique, duplicates} to "stats".
 *
 * A minimal server on `net` rather than smtp-server: smtp-server runs every byte of DATA
 * through a JavaScript unstuffing loop and its streams, about 1.4 ms of CPU per 21 KB message
 * on the development machine, which the deliver benchmark measured as the sink's share of the
 * two cores. Here the end of the data is found with a native `indexOf` per chunk. It speaks
 * enough ESMTP for nodemailer (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; commands
 * pipelined or not, answered in order); every byte of every message is still read, every
 * message counted once, after its terminating dot.
 */
const END = Buffer.from('\r\n.\r\n');
let count = 0;
let bytes = 0;
let duplicates = 0;
const seen = new Set<string>();

function session(socket: net.Socket): void {
  socket.setNoDelay(true);
  let pending: Buffer = Buffer.alloc(0); // command bytes not yet ending in CRLF
  let inData = false;
  let tail: Buffer = Buffer.alloc(0); // the last bytes of the data so far (a terminator may span chunks)
  let head = ''; // the start of the message, for its Message-ID
  let quit = false;

  const endOfMessage = () => {
    count++;
    const id = /^message-id:\s*(\S+)/im.exec(head.split('\r\n\r\n')[0])?.[1];
    if (id) {
      if (seen.has(id)) duplicates++;
      else seen.add(id);
    }
    head = '';
  };

  const command = (line: string): string => {
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === 'EHLO') return '250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n';
    if (verb === 'HELO' || verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') return '250 OK\r\n';
    if (verb === 'DATA') {
      inData = true;
      tail = Buffer.from('\r\n'); // an empty message is a lone "." line
      return '354 go ahead\r\n';
    }
    if (verb === 'QUIT') {
      quit = true;
      return '221 bye\r\n';
    }
    return '502 not implemented\r\n';
  };

  socket.on('data', (chunk: Buffer) => {
    let out = '';
    let rest: Buffer = chunk;
    while (rest.length && !quit) {
      if (inData) {
        // The end may span the previous chunk's last bytes and this one's first: look there first
        // (a few bytes copied), then in this chunk itself.
        const edge = tail.length ? Buffer.concat([tail, rest.subarray(0, END.length - 1)]).indexOf(END) : -1;
        const inRest = edge >= 0 ? -1 : rest.indexOf(END);
        const at = edge >= 0 ? edge : inRest < 0 ? -1 : inRest + tail.length;
        if (at < 0) {
          bytes += rest.length;
          if (head.length < 16384 && !head.includes('\r\n\r\n')) head += rest.toString('latin1');
          const last = rest.length >= END.length - 1 ? rest : Buffer.concat([tail, rest]);
          tail = Buffer.from(last.subarray(Math.max(0, last.length - (END.length - 1))));
          break;
        }
        const used = at + END.length - tail.length; // bytes of `rest` up to and including the end
        bytes += used;
        if (head.length < 16384 && !head.includes('\r\n\r\n')) head += rest.subarray(0, used).toString('latin1');
        rest = rest.subarray(used);
        inData = false;
        tail = Buffer.alloc(0);
        endOfMessage();
        out += '250 OK queued\r\n';
        continue;
      }
      const joined = pending.length ? Buffer.concat([pending, rest]) : rest;
      const nl = joined.indexOf('\r\n');
      if (nl < 0) {
        pending = Buffer.from(joined);
        break;
      }
      pending = Buffer.alloc(0);
      out += command(joined.subarray(0, nl).toString('latin1'));
      rest = joined.subarray(nl + 2);
    }
    if (socket.writableEnded) return;
    if (quit) socket.end(out);
    else if (out) socket.write(out);
  });
  socket.on('error', () => undefined);
  socket.write('220 sink ESMTP\r\n');
}

const server = net.createServer(session);
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as net.AddressInfo).port });
});
process.on('message', (m) => {
  if (m === 'count') process.send!({ count, bytes });
  if (m === 'stats') process.send!({ count, bytes, unique: seen.size, duplicates });
});
process.on('disconnect', () => process.exit(0));
