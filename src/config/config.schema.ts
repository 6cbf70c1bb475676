import { z } from 'zod';
import { parseCaps } from '../delivery/caps';
import { parseDuration } from '../delivery/durations';
import { parseSendWindow } from '../delivery/send-window';

export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = ['ingest', 'author', 'review', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce
  .number({ message: 'expected a port number' })
  .int('expected a whole number')
  .min(0, 'expected a port between 0 and 65535')
  .max(65535, 'expected a port between 0 and 65535');

const positiveInt = z.coerce.number({ message: 'expected a number' }).int('expected a whole number').positive('expected a positive number');

const url = (protocols: RegExp, hint: string) =>
  z.string().refine((v) => {
    try {
      return protocols.test(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `expected ${hint}`);

/** A value parsed by one of the delivery parsers; its error message becomes the config problem. */
const parsed = <T>(parse: (v: string) => T) =>
  z.string().transform((v, ctx) => {
    try {
      return parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
const duration = parsed(parseDuration);
/** An instant: ISO 8601 with a zone (2026-11-01T00:00:00Z) or epoch milliseconds. */
const instant = z.string().transform((v, ctx) => {
  const ms = /^\d+$/.test(v) ? Number(v) : /(Z|[+-]\d\d:?\d\d)$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isFinite(ms)) return ms;
  ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 instant with a zone (2026-11-01T00:00:00Z) or epoch milliseconds' });
  return z.NEVER;
});
const nonNegative = z.coerce.number({ message: 'expected a number' }).min(0, 'expected zero or more');

/**
 * Every environment variable Touchline reads, in one place. Nothing else reads process.env.
 * Unset means default; a value that does not parse stops boot with the variable's name.
 */
export const envSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: url(/^https?:$/, 'an http(s) URL such as https://touchline.example.com').optional(),
  DATABASE_URL: url(/^postgres(ql)?:$/, 'a postgres:// URL').optional(),
  DATABASE_POOL_SIZE: positiveInt.max(500).default(20),
  EMBEDDED_PG_PORT: port.default(54329),
  SMTP_URL: url(/^smtps?:$/, 'an smtp:// or smtps:// URL').optional(),
  DATA_DIR: z.string().min(1).default('var'),
  TOUCHLINE_ROLE: z.enum(ROLES, { message: `expected one of ${ROLES.join(', ')}` }).default('all'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TEMPLATES_DIR: z.string().min(1).default('templates'),
  JOURNEYS_DIR: z.string().min(1).default('journeys'),
  // Secrets: generated into DATA_DIR/secrets.json on first run when not given here.
  TOUCHLINE_INGEST_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  TOUCHLINE_AUTHOR_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  TOUCHLINE_REVIEW_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  TOUCHLINE_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Versioned HMAC keys for tracking links: `k2:secret,k1:oldsecret` (the first signs, all verify). */
  TRACKING_KEYS: z
    .string()
    .regex(/^[A-Za-z0-9_-]+:[^,:]{16,}(,[A-Za-z0-9_-]+:[^,:]{16,})*$/, 'expected id:secret pairs separated by commas, secrets of 16+ characters')
    .optional(),
  // Ingestion limits (Segment's own: 32 KB a message, 500 KB a batch).
  INGEST_MAX_BATCH_BYTES: positiveInt.default(512 * 1024),
  INGEST_MAX_MESSAGE_BYTES: positiveInt.default(32 * 1024),
  // Demo data: seeded on first start of an empty embedded database.
  DEMO_SEED: bool.default(true),
  DEMO_ACCOUNTS: positiveInt.max(1_000_000).default(200),
  // Sender identity (compliance footer of marketing mail).
  SENDER_NAME: z.string().min(1).default('Touchline Demo Co., Ltd.'),
  SENDER_EMAIL: z.email('expected an email address').default('success@touchline.example'),
  SENDER_ADDRESS: z.string().min(1).default('1-2-3 Marunouchi, Chiyoda-ku, Tokyo 100-0005, Japan'),
  SENDER_CONTACT: z.string().min(1).default('support@touchline.example / 03-0000-0000'),
  // Templates (email content): how often the files are re-read, the key features that
  // signals.usedFeatures / unusedFeatures are computed over, the login event, the CSM directory.
  TEMPLATES_RELOAD_MS: z.coerce.number({ message: 'expected a number of milliseconds' }).int('expected a whole number').min(0, 'expected 0 or more').default(2000),
  KEY_FEATURES: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*$/, 'expected event names separated by commas')
    .default('report_created,dashboard_viewed,mail_sent,integration_connected,workflow_created,export_csv,user_invited'),
  LOGIN_EVENT: z.string().min(1).default('login'),
  TEAM_FILE: z.string().min(1).default('team.yaml'),
  DEFAULT_LOCALE: z.string().min(2).default('ja'),
  DEFAULT_TIMEZONE: z.string().min(1).default('Asia/Tokyo'),
  // Delivery (see README, "Delivery"): SMTP pool, DKIM, dispatcher, retries, caps, send window.
  SMTP_POOL_CONNECTIONS: positiveInt.max(100).default(10),
  SMTP_POOL_MESSAGES: positiveInt.default(100),
  SMTP_TLS_REJECT_UNAUTHORIZED: bool.default(true),
  SMTP_REQUIRE_TLS: bool.default(false),
  SMTP_CONNECTION_TIMEOUT: duration.default(30_000),
  SMTP_SOCKET_TIMEOUT: duration.default(60_000),
  DKIM_DOMAIN: z.string().min(1).optional(),
  DKIM_SELECTOR: z.string().min(1).optional(),
  /** PEM text, or the path of a PEM file. */
  DKIM_PRIVATE_KEY: z.string().min(1).optional(),
  MAIL_DIR: z.string().min(1).optional(),
  DELIVERY_RATE_PER_SECOND: nonNegative.default(50),
  DELIVERY_BATCH_SIZE: positiveInt.max(5000).default(200),
  DELIVERY_CONCURRENCY: positiveInt.max(1000).default(16),
  DELIVERY_LEASE: duration.default(300_000),
  DELIVERY_POLL_INTERVAL: duration.default(1000),
  DELIVERY_RETRY_FOR: duration.default(5 * 86_400_000),
  DELIVERY_RETRY_BASE: duration.default(300_000),
  DELIVERY_RETRY_MAX: duration.default(6 * 3_600_000),
  DELIVERY_OUTAGE_PAUSE: duration.default(60_000),
  DELIVERY_CAPS: parsed(parseCaps).default(parseCaps('contact:2/7d,contact:1/1d')),
  DELIVERY_CAP_TTL: duration.default(3 * 86_400_000),
  DELIVERY_SEND_WINDOW: parsed(parseSendWindow).default(parseSendWindow('Mon-Fri 09:00-18:00')),
  DELIVERY_WINDOW_OPERATIONAL: bool.default(false),
  DELIVERY_AMBIGUOUS: z.enum(['retry', 'review'], { message: 'expected retry or review' }).default('retry'),
  DELIVERY_MESSAGE_ID_DOMAIN: z.string().regex(/^[A-Za-z0-9.-]+$/, 'expected a domain name').optional(),
  DELIVERY_UNSUBSCRIBE_MAILTO: z.email('expected an email address').optional(),
  DELIVERY_BOUNCE_ADDRESS: z.email('expected an email address').optional(),
  // Journey engine (workers only run with TOUCHLINE_ROLE all or worker).
  ENGINE_TICK_MS: positiveInt.default(1000),
  ENGINE_TRIGGER_INTERVAL_MS: positiveInt.default(60_000),
  ENGINE_BATCH_SIZE: positiveInt.max(10_000).default(500),
  ENGINE_LEASE_MS: positiveInt.default(60_000),
  ENGINE_MAX_ATTEMPTS: positiveInt.max(100).default(5),
  ENGINE_RETRY_BASE_MS: positiveInt.default(60_000),
  ENGINE_SYNC_ON_START: bool.default(true),
  HANDOFF_WEBHOOK_URL: url(/^https?:$/, 'an http(s) URL').optional(),
  HANDOFF_WEBHOOK_MAX_ATTEMPTS: positiveInt.max(100).default(8),
  // Tracking (open/click/preferences/surveys) and bounce webhooks.
  /** Key of the keyed hash stored instead of IP addresses; derived from the session secret when unset. */
  TRACKING_IP_HASH_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Requests per minute per client IP on the open pixel and click redirect (per process). */
  TRACKING_RATE_PER_MINUTE: positiveInt.default(600),
  /** Requests per minute per client IP on the pages (preferences, survey, comment) (per process). */
  TRACKING_PAGE_RATE_PER_MINUTE: positiveInt.default(60),
  /** A click this soon after the message was sent is a security scanner's. */
  TRACKING_SCANNER_WINDOW_SECONDS: z.coerce.number({ message: 'expected a number' }).int().min(0).default(10),
  /** A proxied open (Google/Yahoo image proxy) this soon after sending is a prefetch. */
  TRACKING_PREFETCH_WINDOW_SECONDS: z.coerce.number({ message: 'expected a number' }).int().min(0).default(30),
  /** Different survey answers to one message within this many seconds are a scanner's burst. */
  TRACKING_SURVEY_BURST_SECONDS: z.coerce.number({ message: 'expected a number' }).int().min(0).default(15),
  SOFT_BOUNCE_THRESHOLD: positiveInt.default(3),
  SOFT_BOUNCE_WINDOW_DAYS: positiveInt.default(30),
  /** Pause marketing mail when complaints / sent over 7 days passes this fraction (0.003 = 0.3%). */
  COMPLAINT_RATE_THRESHOLD: z.coerce.number({ message: 'expected a number' }).positive().max(1).default(0.003),
  /** Below this many sends in 7 days the complaint rate is not judged (1 complaint in 10 is noise). */
  COMPLAINT_MIN_SENT: positiveInt.default(500),
  /** Comma-separated SNS topic ARNs accepted on /webhooks/ses (unset: any topic, signature still checked). */
  SES_SNS_TOPIC_ARNS: z.string().optional(),
  /** SendGrid's event webhook verification key (base64 DER / PEM of the ECDSA P-256 public key). */
  SENDGRID_WEBHOOK_PUBLIC_KEY: z.string().min(40, 'expected the base64 public key from SendGrid').optional(),
  /** Basic-auth credentials you put in Postmark's webhook URL. */
  POSTMARK_WEBHOOK_USER: z.string().min(1).optional(),
  POSTMARK_WEBHOOK_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  // Health score: the model file, how often workers recompute, how long daily snapshots are kept.
  HEALTH_MODEL_FILE: z.string().min(1).default('health.yaml'),
  HEALTH_RECOMPUTE_MINUTES: positiveInt.max(24 * 60).default(60),
  HEALTH_SNAPSHOT_DAYS: positiveInt.max(3650).default(400),
  // CS console: how long a login lasts, rows per page.
  CONSOLE_SESSION_HOURS: positiveInt.max(24 * 30, 'expected at most 720 hours').default(12),
  CONSOLE_PAGE_SIZE: positiveInt.max(500, 'expected at most 500').default(50),
  CONSOLE_REFRESH_SECONDS: positiveInt.max(86_400, 'expected at most 86400 seconds').default(300),
  // Virtual clock (soak benchmark): off unless CLOCK=scaled is set explicitly; see README, "Virtual clock".
  CLOCK: z.enum(['system', 'scaled'], { message: 'expected system or scaled' }).default('system'),
  CLOCK_START: instant.optional(),
  CLOCK_SPEED: z.coerce.number({ message: 'expected a number' }).positive('expected a positive number').max(1_000_000, 'expected at most 1000000').default(1),
  CLOCK_ANCHOR: instant.optional(),
  /** How long one hand-off webhook POST may take before it counts as a failed attempt. */
  HANDOFF_WEBHOOK_TIMEOUT: duration.default(10_000),
  /** Public endpoints' requests per minute per client address, per process (then 429 with Retry-After). */
  UNSUBSCRIBE_RATE_PER_MINUTE: positiveInt.default(60),
  CONSOLE_LOGIN_RATE_PER_MINUTE: positiveInt.default(10),
  WEBHOOK_RATE_PER_MINUTE: positiveInt.default(1200),
  /** Concurrent connections (one transaction each, over a range of accounts) a health recompute uses. */
  HEALTH_RECOMPUTE_SHARDS: positiveInt.max(64, 'expected at most 64').default(2),
});

export type Env = z.infer<typeof envSchema>;
