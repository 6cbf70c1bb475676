import * as bodyParser from 'body-parser';
import { PassThrough } from 'node:stream';
import { parseJsonBody } from '../../src/ingestion/json-body';

/** What the app's JSON body parser (body-parser 2, strict, with a verify hook as Nest's rawBody sets) makes of a body. */
const parser = bodyParser.json({ limit: 1 << 20, type: ['application/json'], verify: () => undefined });
function viaBodyParser(bytes: Buffer): Promise<unknown> {
  return new Promise((resolve) => {
    const req = Object.assign(new PassThrough(), { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(bytes.length) } }) as any;
    parser(req, {} as any, (err?: any) => resolve(err ? { type: err.type, message: err.message } : { body: req.body }));
    req.end(bytes);
  });
}
function viaFastPath(bytes: Buffer): unknown {
  try {
    return { body: parseJsonBody(bytes) };
  } catch (err: any) {
    return { type: err.type, message: err.message };
  }
}

describe('parseJsonBody (the raw ingestion listener) parses as the app body parser does', () => {
  it('on hand-picked bodies: empty, blank, BOM, scalars, truncated, invalid UTF-8', async () => {
    const bodies = ['', '  ', '\n\t', '\ufeff{"a":1}', '\ufeff', ' "x"', 'null', '1', 'true', '  [1]', '{"a":', '{"a":1}x', '[', '{"batch":[{"event":"é"}]}'];
    const cases = [...bodies.map((s) => Buffer.from(s)), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from([0xef, 0xbb])];
    for (const bytes of cases) expect([bytes.toString('hex'), viaFastPath(bytes)]).toEqual([bytes.toString('hex'), await viaBodyParser(bytes)]);
  });

  it('on generated bodies: a valid batch cut, with characters replaced or inserted', async () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const base = JSON.stringify({ batch: [{ type: 'track', userId: 'u-1', event: 'login', properties: { n: 1.5, s: 'ü\\"', a: [null, true] } }], context: {} });
    const noise = ['{', '}', '[', ']', '"', ',', ':', ' ', '\ufeff', 'x', '0', '-', '\\', '\n', 'é', '\u0000'];
    for (let i = 0; i < 600; i++) {
      let s = base.slice(rand(3) === 0 ? rand(base.length) : 0, rand(4) === 0 ? rand(base.length + 1) : base.length);
      for (let k = rand(3); k > 0; k--) {
        const at = rand(s.length + 1);
        s = s.slice(0, at) + noise[rand(noise.length)] + s.slice(at + rand(2));
      }
      const bytes = Buffer.from(s);
      expect([s, viaFastPath(bytes)]).toEqual([s, await viaBodyParser(bytes)]);
    }
  });
});
