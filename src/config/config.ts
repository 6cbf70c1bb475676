import * as fs from 'node:fs';
import { createHmac } from 'node:crypto';
import * as path from 'node:path';
import type { ClockSetting } from '../common/clock';
import type { CapRule } from '../delivery/caps';
import type { SendWindow } from '../delivery/send-window';
import { Env, envSchema, Role, Scope } from './config.schema';
import { loadSecrets, Secrets } from './secrets';

export type RateGroup = 'unsubscribe' | 'login' | 'webhooks';

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
  smtp: {
    url?: string;
    pool: { maxConnections: number; maxMessages: number };
    tls: { rejectUnauthorized: boolean; require: boolean };
    connectionTimeoutMs: number;
    socketTimeoutMs: number;
    dkim?: { domainName: string; keySelector: string; privateKey: string };
    /** Where the file transport writes `.eml` files when no SMTP_URL is set. */
    mailDir: string;
  };
  delivery: DeliveryConfig;
  ingest: { maxBatchBytes: number; maxMessageBytes: number };
  demo: { seed: boolean; accounts: number };
  sender: { name: string; email: string; address: string; contact: string };
  defaults: { locale: string; timezone: string };
  tracking: TrackingConfig;
  /** Email content: reload interval of the template files (0 = every render), key features, login event, CSM directory file. */
  templates: { reloadMs: number; keyFeatures: string[]; loginEvent: string; teamFile: string };
  health: { modelFile: string; recomputeMinutes: number; snapshotDays: number; recomputeShards: number };
  engine: EngineConfig;
  console: { sessionTtlSeconds: number; pageSize: number; refreshSeconds: number };
  /** Real time unless CLOCK=scaled (soak runs): see clockFrom in common/clock. */
  clock: ClockSetting;
  secrets: Secrets;
  /** Requests per minute per client address on public endpoints that have no limiter of their own. */
  publicRates: Record<RateGroup, number>;
}

export interface DeliveryConfig {
  /** Global send rate across all dispatchers, messages per second; 0 = unlimited. */
  ratePerSecond: number;
  batchSize: number;
  /** Sends in flight per dispatcher. */
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  retryForMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  outagePauseMs: number;
  caps: CapRule[];
  capTtlMs: number;
  sendWindow: SendWindow;
  windowForOperational: boolean;
  /** What a message found in `sending` after its lease, possibly already accepted, becomes. */
  ambiguous: 'retry' | 'review';
  messageIdDomain: string;
  unsubscribeMailto: string;
  bounceAddress?: string;
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

export interface EngineConfig {
  /** How often a worker looks for due enrollments and new events. */
  tickMs: number;
  /** How often condition, date and schedule triggers are evaluated. */
  triggerIntervalMs: number;
  batchSize: number;
  /** A claimed enrollment is another worker's after this long (a killed worker's work is picked up). */
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** Store journey files as versions when a worker process starts. */
  syncOnStart: boolean;
  /** Default hand-off webhook (a journey step or the CSM in team.yaml may name another). */
  handoffWebhookUrl?: string;
  handoffWebhookMaxAttempts: number;
  /** One POST's time limit; a target that does not answer in time is retried with backoff. */
  handoffWebhookTimeoutMs: number;
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
  // A recompute holds one connection for its lock and one per shard, all at once.
  if (e.HEALTH_RECOMPUTE_SHARDS >= e.DATABASE_POOL_SIZE) {
    throw new ConfigError([`HEALTH_RECOMPUTE_SHARDS: ${e.HEALTH_RECOMPUTE_SHARDS} needs a pool of at least ${e.HEALTH_RECOMPUTE_SHARDS + 1} connections (DATABASE_POOL_SIZE is ${e.DATABASE_POOL_SIZE})`]);
  }
  // A step batch holds one connection (its claim's transaction) while its render contexts are read on up to two more.
  if (runsWorkers({ role: e.TOUCHLINE_ROLE }) && e.DATABASE_POOL_SIZE < 3) {
    throw new ConfigError([`DATABASE_POOL_SIZE: ${e.DATABASE_POOL_SIZE} is too small for the engine's workers, which need at least 3 connections (a step batch holds one and reads on two more)`]);
  }
  const dataDir = path.resolve(cwd, e.DATA_DIR);
  const senderDomain = e.SENDER_EMAIL.split('@')[1];
  const dkim = dkimConfig(e, cwd);
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
    smtp: {
      url: e.SMTP_URL,
      pool: { maxConnections: e.SMTP_POOL_CONNECTIONS, maxMessages: e.SMTP_POOL_MESSAGES },
      tls: { rejectUnauthorized: e.SMTP_TLS_REJECT_UNAUTHORIZED, require: e.SMTP_REQUIRE_TLS },
      connectionTimeoutMs: e.SMTP_CONNECTION_TIMEOUT,
      socketTimeoutMs: e.SMTP_SOCKET_TIMEOUT,
      dkim,
      mailDir: path.resolve(dataDir, e.MAIL_DIR ?? 'mail'),
    },
    delivery: {
      ratePerSecond: e.DELIVERY_RATE_PER_SECOND,
      batchSize: e.DELIVERY_BATCH_SIZE,
      concurrency: e.DELIVERY_CONCURRENCY,
      leaseMs: e.DELIVERY_LEASE,
      pollIntervalMs: e.DELIVERY_POLL_INTERVAL,
      retryForMs: e.DELIVERY_RETRY_FOR,
      retryBaseMs: e.DELIVERY_RETRY_BASE,
      retryMaxMs: e.DELIVERY_RETRY_MAX,
      outagePauseMs: e.DELIVERY_OUTAGE_PAUSE,
      caps: e.DELIVERY_CAPS,
      capTtlMs: e.DELIVERY_CAP_TTL,
      sendWindow: e.DELIVERY_SEND_WINDOW,
      windowForOperational: e.DELIVERY_WINDOW_OPERATIONAL,
      ambiguous: e.DELIVERY_AMBIGUOUS,
      messageIdDomain: e.DELIVERY_MESSAGE_ID_DOMAIN ?? senderDomain,
      unsubscribeMailto: e.DELIVERY_UNSUBSCRIBE_MAILTO ?? `unsubscribe@${senderDomain}`,
      bounceAddress: e.DELIVERY_BOUNCE_ADDRESS,
    },
    ingest: { maxBatchBytes: e.INGEST_MAX_BATCH_BYTES, maxMessageBytes: e.INGEST_MAX_MESSAGE_BYTES },
    demo: { seed: e.DEMO_SEED, accounts: e.DEMO_ACCOUNTS },
    sender: { name: e.SENDER_NAME, email: e.SENDER_EMAIL, address: e.SENDER_ADDRESS, contact: e.SENDER_CONTACT },
    defaults: { locale: e.DEFAULT_LOCALE, timezone: e.DEFAULT_TIMEZONE },
    engine: {
      tickMs: e.ENGINE_TICK_MS,
      triggerIntervalMs: e.ENGINE_TRIGGER_INTERVAL_MS,
      batchSize: e.ENGINE_BATCH_SIZE,
      leaseMs: e.ENGINE_LEASE_MS,
      maxAttempts: e.ENGINE_MAX_ATTEMPTS,
      retryBaseMs: e.ENGINE_RETRY_BASE_MS,
      syncOnStart: e.ENGINE_SYNC_ON_START,
      handoffWebhookUrl: e.HANDOFF_WEBHOOK_URL,
      handoffWebhookMaxAttempts: e.HANDOFF_WEBHOOK_MAX_ATTEMPTS,
      handoffWebhookTimeoutMs: e.HANDOFF_WEBHOOK_TIMEOUT,
    },
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
    health: { modelFile: path.resolve(cwd, e.HEALTH_MODEL_FILE), recomputeMinutes: e.HEALTH_RECOMPUTE_MINUTES, snapshotDays: e.HEALTH_SNAPSHOT_DAYS, recomputeShards: e.HEALTH_RECOMPUTE_SHARDS },
    console: { sessionTtlSeconds: e.CONSOLE_SESSION_HOURS * 3600, pageSize: e.CONSOLE_PAGE_SIZE, refreshSeconds: e.CONSOLE_REFRESH_SECONDS },
    clock: clockSetting(e),
    secrets,
    publicRates: { unsubscribe: e.UNSUBSCRIBE_RATE_PER_MINUTE, login: e.CONSOLE_LOGIN_RATE_PER_MINUTE, webhooks: e.WEBHOOK_RATE_PER_MINUTE },
  };
}

/** CLOCK=scaled needs CLOCK_START; the other CLOCK_ settings without it are a mistake, not a default. */
function clockSetting(e: Env): ClockSetting {
  if (e.CLOCK === 'system') {
    const stray = (['CLOCK_START', 'CLOCK_ANCHOR'] as const).filter((k) => e[k] !== undefined);
    if (stray.length || e.CLOCK_SPEED !== 1) throw new ConfigError([`${[...stray, ...(e.CLOCK_SPEED !== 1 ? ['CLOCK_SPEED'] : [])].join(', ')}: only used with CLOCK=scaled (the service runs on real time unless CLOCK=scaled is set)`]);
    return { mode: 'system' };
  }
  if (e.CLOCK_START === undefined) throw new ConfigError(['CLOCK_START: required with CLOCK=scaled (the virtual instant the clock starts from)']);
  return { mode: 'scaled', start: e.CLOCK_START, speed: e.CLOCK_SPEED, anchor: e.CLOCK_ANCHOR };
}

/** DKIM needs all three settings or none; the key may be PEM text or a file path. */
function dkimConfig(e: Env, cwd: string): Config['smtp']['dkim'] {
  const given = [e.DKIM_DOMAIN, e.DKIM_SELECTOR, e.DKIM_PRIVATE_KEY].filter(Boolean).length;
  if (given === 0) return undefined;
  if (given < 3) throw new ConfigError(['DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY: set all three to sign with DKIM, or none']);
  let key = e.DKIM_PRIVATE_KEY!;
  if (!key.includes('-----BEGIN')) {
    const file = path.resolve(cwd, key);
    try {
      key = fs.readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError([`DKIM_PRIVATE_KEY: expected PEM text or a readable file (cannot read ${file})`]);
    }
    if (!key.includes('-----BEGIN')) throw new ConfigError([`DKIM_PRIVATE_KEY: ${file} does not hold a PEM key`]);
  }
  return { domainName: e.DKIM_DOMAIN!, keySelector: e.DKIM_SELECTOR!, privateKey: key };
}

/** The process's own environment: the entry points' only way to configuration. */
export function processEnv(): NodeJS.ProcessEnv {
  return process.env;
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
