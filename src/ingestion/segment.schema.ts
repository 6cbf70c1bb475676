import { z } from 'zod';

/** Segment HTTP Tracking API field names (identify, group, track, batch). */
const id = z.union([z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters'), z.number().finite()]).transform(String);

const isoTime = z
  .string()
  .max(64)
  .refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)), 'expected an ISO 8601 date-time such as 2026-11-22T09:30:00Z')
  .transform((v) => new Date(v));

const record = z.record(z.string(), z.unknown());

const common = {
  messageId: z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters').optional(),
  userId: id.nullish(),
  anonymousId: id.nullish(),
  timestamp: isoTime.nullish(),
  originalTimestamp: isoTime.nullish(),
  sentAt: isoTime.nullish(),
  context: record.optional(),
  integrations: record.optional(),
};

const needsIdentity = (m: { userId?: string | null; anonymousId?: string | null }) => !!(m.userId || m.anonymousId);
const identityMessage = { message: 'userId or anonymousId is required', path: ['userId'] };

export const identifySchema = z
  .object({ ...common, type: z.literal('identify').optional(), traits: record.optional() })
  .refine(needsIdentity, identityMessage);

export const groupSchema = z
  .object({ ...common, type: z.literal('group').optional(), groupId: id, traits: record.optional() })
  .refine(needsIdentity, identityMessage);

export const trackSchema = z
  .object({
    ...common,
    type: z.literal('track').optional(),
    event: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    properties: record.optional(),
  })
  .refine(needsIdentity, identityMessage);

export const MESSAGE_TYPES = ['identify', 'group', 'track'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const schemaByType = { identify: identifySchema, group: groupSchema, track: trackSchema } as const;

export const batchEnvelopeSchema = z.object({
  batch: z.array(z.unknown(), { message: 'expected an array of messages' }).min(1, 'must hold at least one message'),
  context: record.optional(),
  integrations: record.optional(),
  sentAt: z.unknown().optional(),
});

export type IdentifyInput = z.infer<typeof identifySchema>;
export type GroupInput = z.infer<typeof groupSchema>;
export type TrackInput = z.infer<typeof trackSchema>;
