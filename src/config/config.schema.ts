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
  DEFAULT_LOCALE: z.string().min(2).default('ja'),
  DEFAULT_TIMEZONE: z.string().min(1).default('Asia/Tokyo'),
  // Delivery (see README, "Delivery"): SMTP pool, DKIM, dispatcher, retries, caps, send window.
  SMTP_POOL_CONNECTIONS: positiveInt.max(100).default(5),
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
});

export type Env = z.infer<typeof envSchema>;
