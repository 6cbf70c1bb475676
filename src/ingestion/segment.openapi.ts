import { z } from 'zod';
import { batchEnvelopeSchema, groupSchema, identifySchema, trackSchema } from './segment.schema';

type Schema = Record<string, any>;

const toSchema = (s: z.ZodType): Schema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Schema;
  return rest;
};

/** OpenAPI bodies generated from the same zod schemas that validate requests. */
export const openApiSchemas = {
  identify: toSchema(identifySchema),
  group: toSchema(groupSchema),
  track: toSchema(trackSchema),
  batch: toSchema(batchEnvelopeSchema),
};
