import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-delivery-config-'));
const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dir, ...env }, { createSecrets: false });
const problems = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (err) {
    return (err as ConfigError).problems;
  }
  return [];
};

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('delivery configuration', () => {
  it('has working defaults', () => {
    const c = load({});
    expect(c.delivery).toMatchObject({ ratePerSecond: 50, batchSize: 200, leaseMs: 300_000, retryForMs: 5 * 86_400_000, ambiguous: 'retry', messageIdDomain: 'touchline.example', unsubscribeMailto: 'unsubscribe@touchline.example' });
    expect(c.delivery.caps).toEqual([
      { scope: 'contact', limit: 2, windowMs: 7 * 86_400_000 },
      { scope: 'contact', limit: 1, windowMs: 86_400_000 },
    ]);
    expect(c.delivery.sendWindow).toHaveLength(1);
    expect(c.smtp).toMatchObject({ url: undefined, mailDir: path.join(dir, 'mail'), pool: { maxConnections: 10, maxMessages: 100 } });
  });

  it('names the variable and the problem', () => {
    expect(problems({ DELIVERY_CAPS: 'person:1/1d' })).toEqual(['DELIVERY_CAPS: "person:1/1d": expected scope:limit/window such as "contact:2/7d" (got "person:1/1d")']);
    expect(problems({ DELIVERY_SEND_WINDOW: 'Mon-Fri 18:00-09:00' })[0]).toMatch(/^DELIVERY_SEND_WINDOW: .*must end after it starts/);
    expect(problems({ DELIVERY_RETRY_FOR: 'forever' })[0]).toMatch(/^DELIVERY_RETRY_FOR: "forever" is not a duration/);
    expect(problems({ DELIVERY_AMBIGUOUS: 'maybe' })[0]).toMatch(/^DELIVERY_AMBIGUOUS: expected retry or review/);
    expect(problems({ DKIM_DOMAIN: 'example.com' })).toEqual(['DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY: set all three to sign with DKIM, or none']);
    expect(problems({ DKIM_DOMAIN: 'example.com', DKIM_SELECTOR: 's1', DKIM_PRIVATE_KEY: '/nonexistent/key.pem' })[0]).toMatch(/^DKIM_PRIVATE_KEY: expected PEM text or a readable file/);
  });
});
