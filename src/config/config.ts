import { createHmac } from 'node:crypto';
import * as path from 'node:path';
import { envSchema, Role, Scope } from './config.schema';
import { loadSecrets, Secrets } from './secrets';

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  role: Role;
  logLevel: string;
  dataDir: string;
  templatesDir: string;
  journeysDir: string;
  database: { url?: string; poolSize: number; embeddedPort: number };
  smtp: { url?: string };
  ingest: { maxBatchBytes: number; maxMessageBytes: number };
  demo: { seed: boolean; accounts: number };
  sender: { name: string; email: string; address: string; contact: string };
  defaults: { locale: string; timezone: string };
  tracking: TrackingConfig;
  /** Email content: reload interval of the template files (0 = every render), key features, login event, CSM directory file. */
  templates: { reloadMs: number; keyFeatures: string[]; loginEvent: string; teamFile: string };
  health: { modelFile: string; recomputeMinutes: number; snapshotDays: number };
  console: { sessionTtlSeconds: number; pageSize: number; refreshSeconds: number };
  secrets: Secrets;
}

export interface TrackingConfig {
  ipHashKey: string;
  ratePerMinute: number;
  pageRatePerMinute: number;
  scannerWindowSeconds: number;
  prefetchWindowSeconds: number;
  surveyBurstSeconds: number;
  softBounceThreshold: number;
  softBounceWindowDays: number;
  complaintRateThreshold: number;
  complaintMinSent: number;
  ses: { topicArns: string[] };
  sendgrid: { publicKey?: string };
  postmark: { user?: string; password?: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  cwd?: string;
  /** Where a first run writes generated secrets; tests pass a temp dir. */
  createSecrets?: boolean;
}

/** Parses and validates the environment once, at boot. */
export function loadConfig(env: NodeJS.ProcessEnv, options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const parsed = envSchema.safeParse(stripEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const shown = /KEY|URL|PASSWORD|SECRET/.test(name) ? '' : ` (got ${JSON.stringify(env[name])})`;
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(cwd, e.DATA_DIR);
  const secrets = loadSecrets(dataDir, {
    apiKeys: {
      ingest: e.TOUCHLINE_INGEST_KEY,
      author: e.TOUCHLINE_AUTHOR_KEY,
      review: e.TOUCHLINE_REVIEW_KEY,
      admin: e.TOUCHLINE_ADMIN_KEY,
    },
    trackingKeys: e.TRACKING_KEYS,
    create: options.createSecrets ?? true,
  });
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    role: e.TOUCHLINE_ROLE,
    logLevel: e.LOG_LEVEL,
    dataDir,
    templatesDir: path.resolve(cwd, e.TEMPLATES_DIR),
    journeysDir: path.resolve(cwd, e.JOURNEYS_DIR),
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, embeddedPort: e.EMBEDDED_PG_PORT },
    smtp: { url: e.SMTP_URL },
    ingest: { maxBatchBytes: e.INGEST_MAX_BATCH_BYTES, maxMessageBytes: e.INGEST_MAX_MESSAGE_BYTES },
    demo: { seed: e.DEMO_SEED, accounts: e.DEMO_ACCOUNTS },
    sender: { name: e.SENDER_NAME, email: e.SENDER_EMAIL, address: e.SENDER_ADDRESS, contact: e.SENDER_CONTACT },
    defaults: { locale: e.DEFAULT_LOCALE, timezone: e.DEFAULT_TIMEZONE },
    tracking: {
      ipHashKey: e.TRACKING_IP_HASH_KEY ?? createHmac('sha256', secrets.sessionSecret).update('touchline:ip-hash').digest('base64url'),
      ratePerMinute: e.TRACKING_RATE_PER_MINUTE,
      pageRatePerMinute: e.TRACKING_PAGE_RATE_PER_MINUTE,
      scannerWindowSeconds: e.TRACKING_SCANNER_WINDOW_SECONDS,
      prefetchWindowSeconds: e.TRACKING_PREFETCH_WINDOW_SECONDS,
      surveyBurstSeconds: e.TRACKING_SURVEY_BURST_SECONDS,
      softBounceThreshold: e.SOFT_BOUNCE_THRESHOLD,
      softBounceWindowDays: e.SOFT_BOUNCE_WINDOW_DAYS,
      complaintRateThreshold: e.COMPLAINT_RATE_THRESHOLD,
      complaintMinSent: e.COMPLAINT_MIN_SENT,
      ses: { topicArns: (e.SES_SNS_TOPIC_ARNS ?? '').split(',').map((s) => s.trim()).filter(Boolean) },
      sendgrid: { publicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY },
      postmark: { user: e.POSTMARK_WEBHOOK_USER, password: e.POSTMARK_WEBHOOK_PASSWORD },
    },
    templates: {
      reloadMs: e.TEMPLATES_RELOAD_MS,
      keyFeatures: e.KEY_FEATURES.split(','),
      loginEvent: e.LOGIN_EVENT,
      teamFile: path.resolve(cwd, e.TEAM_FILE),
    },
    health: { modelFile: path.resolve(cwd, e.HEALTH_MODEL_FILE), recomputeMinutes: e.HEALTH_RECOMPUTE_MINUTES, snapshotDays: e.HEALTH_SNAPSHOT_DAYS },
    console: { sessionTtlSeconds: e.CONSOLE_SESSION_HOURS * 3600, pageSize: e.CONSOLE_PAGE_SIZE, refreshSeconds: e.CONSOLE_REFRESH_SECONDS },
    secrets,
  };
}

export function runsWorkers(config: Pick<Config, 'role'>): boolean {
  return config.role === 'all' || config.role === 'worker';
}

export function servesHttp(config: Pick<Config, 'role'>): boolean {
  return config.role === 'all' || config.role === 'api';
}

export function scopeKey(config: Config, scope: Scope): string {
  return config.secrets.apiKeys[scope];
}

function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
