import { createHash } from 'node:crypto';
import { Journey } from '../journeys/journey';

/**
 * The content hash of a validated journey: JSON with sorted keys, without `source` (moving a
 * file is not a new version). Equal journeys hash equal whatever order the loader built them in.
 */
export function journeyHash(journey: Journey): string {
  const { source: _source, ...content } = journey;
  return createHash('sha256').update(stableJson(content)).digest('hex');
}

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
