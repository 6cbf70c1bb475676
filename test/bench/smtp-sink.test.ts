import { fork } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as nodemailer from 'nodemailer';

// The benchmarks' counting SMTP sink (test/support/smtp-sink-child.ts), as built by `npm run build`.
const CHILD = path.resolve(__dirname, '..', '..', 'dist', 'test', 'support', 'smtp-sink-child.js');

async function withSink<T>(work: (port: number, stats: () => Promise<{ count: number; unique: number; duplicates: number }>) => Promise<T>): Promise<T> {
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const stats = () =>
    new Promise<{ count: number; unique: number; duplicates: number }>((resolve) => {
      child.once('message', (m: { count: number; unique: number; duplicates: number }) => resolve(m));
      child.send('stats');
    });
  try {
    return await work(port, stats);
  } finally {
    child.kill();
  }
}

describe('benchmark SMTP sink', () => {
  it('counts every message once, whatever the chunking of the pipelined session, dot-stuffed lines included', async () => {
    await withSink(async (port, stats) => {
      const messages = Array.from({ length: 30 }, (_, i) => `Message-ID: <m${i}@x>\r\nSubject: t\r\n\r\n..stuffed\r\nbody ${'y'.repeat(i)}\r\n.\r\n`);
      messages.push('Message-ID: <empty@x>\r\n\r\n.\r\n');
      const wire = Buffer.from(`EHLO me\r\n${messages.map((m) => `MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n${m}`).join('')}QUIT\r\n`);
      for (const step of [1, 2, 3, 4, 5, 7, 64, wire.length]) {
        const replies = await new Promise<string>((resolve, reject) => {
          let got = '';
          const s = net.connect(port, '127.0.0.1', async () => {
            for (let i = 0; i < wire.length; i += step) {
              s.write(wire.subarray(i, i + step));
              if (i % 256 === 0) await new Promise((r) => setImmediate(r));
            }
          });
          s.on('data', (d) => (got += d));
          s.on('close', () => resolve(got));
          s.on('error', reject);
        });
        expect(replies.match(/^250 OK queued/gm)?.length).toBe(messages.length);
        expect(replies).toMatch(/221 bye\r\n$/);
      }
      expect(await stats()).toMatchObject({ count: 8 * messages.length, unique: messages.length, duplicates: 7 * messages.length });
    });
  });

  it('receives pooled nodemailer sends of large messages, each once', async () => {
    await withSink(async (port, stats) => {
      const t = nodemailer.createTransport({ url: `smtp://127.0.0.1:${port}`, pool: true, maxConnections: 3, maxMessages: 7 } as nodemailer.TransportOptions);
      const body = `${'こんにちは、ユーザー様。\n.dot line\n'.repeat(800)}`;
      await Promise.all(Array.from({ length: 40 }, (_, i) => t.sendMail({ from: 'a@x.example', to: `u${i}@x.example`, subject: 's', text: body, html: `<p>${body}</p>`, messageId: `<n${i}@x>` })));
      t.close();
      expect(await stats()).toMatchObject({ count: 40, unique: 40, duplicates: 0 });
    });
  });
});
