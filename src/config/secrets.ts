import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Scope, SCOPES } from './config.schema';

export interface TrackingKey {
  id: string;
  secret: string;
}

export interface Secrets {
  apiKeys: Record<Scope, string>;
  /** The first key signs new tokens; every key verifies (rotation keeps old links working). */
  trackingKeys: TrackingKey[];
  sessionSecret: string;
  embeddedDbPassword: string;
  /** Where generated secrets live (the first start prints this path, never the keys). */
  file: string;
  /** True when this call created the file. */
  created: boolean;
}

interface SecretsFile {
  apiKeys: Record<Scope, string>;
  trackingKeys: TrackingKey[];
  sessionSecret: string;
  embeddedDbPassword: string;
}

interface SecretOverrides {
  apiKeys: Partial<Record<Scope, string | undefined>>;
  trackingKeys?: string;
  create: boolean;
}

const token = (prefix: string) => `${prefix}_${randomBytes(24).toString('base64url')}`;

function generate(): SecretsFile {
  return {
    apiKeys: {
      ingest: token('tl_ingest'),
      author: token('tl_author'),
      review: token('tl_review'),
      admin: token('tl_admin'),
    },
    trackingKeys: [{ id: 'k1', secret: randomBytes(32).toString('base64url') }],
    sessionSecret: randomBytes(32).toString('base64url'),
    embeddedDbPassword: randomBytes(18).toString('base64url'),
  };
}

/**
 * Reads DATA_DIR/secrets.json, creating it (mode 0600) with fresh random keys on first run.
 * Values given in the environment win over the file.
 */
export function loadSecrets(dataDir: string, overrides: SecretOverrides): Secrets {
  const file = path.join(dataDir, 'secrets.json');
  let stored: SecretsFile;
  let created = false;
  if (fs.existsSync(file)) {
    stored = { ...generate(), ...(JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<SecretsFile>) };
  } else {
    stored = generate();
    if (overrides.create) {
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
      created = true;
    }
  }
  const apiKeys = { ...stored.apiKeys };
  for (const scope of SCOPES) {
    const given = overrides.apiKeys[scope];
    if (given) apiKeys[scope] = given;
  }
  const trackingKeys = overrides.trackingKeys
    ? overrides.trackingKeys.split(',').map((pair) => {
        const at = pair.indexOf(':');
        return { id: pair.slice(0, at), secret: pair.slice(at + 1) };
      })
    : stored.trackingKeys;
  return {
    apiKeys,
    trackingKeys,
    sessionSecret: stored.sessionSecret,
    embeddedDbPassword: stored.embeddedDbPassword,
    file,
    created,
  };
}
