import { z } from 'zod';

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
  // CS console: how long a login lasts, rows per page.
  CONSOLE_SESSION_HOURS: positiveInt.max(24 * 30, 'expected at most 720 hours').default(12),
  CONSOLE_PAGE_SIZE: positiveInt.max(500, 'expected at most 500').default(50),
});

export type Env = z.infer<typeof envSchema>;
