import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tl-cfg-'));

describe('config', () => {
  it('stops with a message naming each bad variable', () => {
    const attempt = () => loadConfig({ DATA_DIR: tmp(), PORT: 'eighty', TOUCHLINE_ROLE: 'boss', DATABASE_URL: 'mysql://x', DEMO_SEED: 'maybe' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('PORT: expected a port number (got "eighty")');
      expect(msg).toContain('TOUCHLINE_ROLE: expected one of all, api, worker (got "boss")');
      expect(msg).toContain('DATABASE_URL: expected a postgres:// URL');
      expect(msg).not.toContain('mysql://x'); // URLs may hold passwords
      expect(msg).toContain('DEMO_SEED: expected true or false');
    }
  });

  it('stops when the pool cannot hold a health recompute (its lock and every shard)', () => {
    expect(() => loadConfig({ DATA_DIR: tmp(), DATABASE_POOL_SIZE: '3', HEALTH_RECOMPUTE_SHARDS: '3' })).toThrow(
      'HEALTH_RECOMPUTE_SHARDS: 3 needs a pool of at least 4 connections (DATABASE_POOL_SIZE is 3)',
    );
    expect(loadConfig({ DATA_DIR: tmp(), DATABASE_POOL_SIZE: '4', HEALTH_RECOMPUTE_SHARDS: '3' }).health.recomputeShards).toBe(3);
  });

  it("stops when the pool cannot hold a step batch (its claim's transaction and two reads), unless the process serves the API only", () => {
    expect(() => loadConfig({ DATA_DIR: tmp(), DATABASE_POOL_SIZE: '2', HEALTH_RECOMPUTE_SHARDS: '1' })).toThrow(
      "DATABASE_POOL_SIZE: 2 is too small for the engine's workers, which need at least 3 connections (a step batch holds one and reads on two more)",
    );
    expect(loadConfig({ DATA_DIR: tmp(), DATABASE_POOL_SIZE: '2', HEALTH_RECOMPUTE_SHARDS: '1', TOUCHLINE_ROLE: 'api' }).database.poolSize).toBe(2);
    expect(loadConfig({ DATA_DIR: tmp(), DATABASE_POOL_SIZE: '3' }).database.poolSize).toBe(3);
  });

  it('generates secrets once into the data dir (mode 0600) and reuses them', () => {
    const dir = tmp();
    const first = loadConfig({ DATA_DIR: dir });
    expect(first.secrets.created).toBe(true);
    expect(fs.statSync(first.secrets.file).mode & 0o777).toBe(0o600);
    const second = loadConfig({ DATA_DIR: dir });
    expect(second.secrets.created).toBe(false);
    expect(second.secrets.apiKeys).toEqual(first.secrets.apiKeys);
    expect(new Set(Object.values(first.secrets.apiKeys)).size).toBe(4);
  });

  it('lets the environment override keys and parses versioned tracking keys', () => {
    const c = loadConfig({ DATA_DIR: tmp(), TOUCHLINE_INGEST_KEY: 'x'.repeat(20), TRACKING_KEYS: 'k2:newsecret-0123456789,k1:oldsecret-0123456789' });
    expect(c.secrets.apiKeys.ingest).toBe('x'.repeat(20));
    expect(c.secrets.trackingKeys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(() => loadConfig({ DATA_DIR: tmp(), TRACKING_KEYS: 'short:abc' })).toThrow(/TRACKING_KEYS: expected id:secret pairs/);
  });

  it('defaults to the embedded database, file mail transport and all roles', () => {
    const c = loadConfig({ DATA_DIR: tmp() });
    expect(c.database.url).toBeUndefined();
    expect(c.smtp.url).toBeUndefined();
    expect(c.role).toBe('all');
    expect(c.publicUrl).toBe('http://localhost:3000');
  });
});
