/**
 * Query parameters as the `pg` driver would send them, made faster for the engine's batches
 * (tens of thousands of array elements per batch of steps): an array of strings, numbers,
 * booleans, bigints and nulls becomes the same array literal text the driver's own
 * `prepareValue` makes (`{"a","b\"c",NULL}`), byte for byte; any other parameter — and an
 * array holding anything else (Dates, objects, buffers, nested arrays) — is left to the driver.
 * The driver runs two regular-expression replaces and a type dispatch per element; most
 * elements here need neither (test/database/pg-params.test.ts holds the two equal).
 */
export function fastParams(params: unknown[] | undefined): unknown[] | undefined {
  if (!params) return params;
  let out: unknown[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (!Array.isArray(p)) continue;
    const literal = arrayLiteral(p);
    if (literal === undefined) continue;
    out ??= params.slice();
    out[i] = literal;
  }
  return out ?? params;
}

/** The driver's array literal of `values` (one dimension of scalars), or undefined when one element is not a scalar it would print as is. */
export function arrayLiteral(values: readonly unknown[]): string | undefined {
  const n = values.length;
  if (n === 0) return '{}';
  // Common case: every element prints as itself inside quotes (no null, no quote, no backslash): one join.
  let plain = true;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const t = typeof v;
    if (t === 'string') {
      if ((v as string).indexOf('"') !== -1 || (v as string).indexOf('\\') !== -1) {
        plain = false;
        break;
      }
    } else if (t !== 'number' && t !== 'boolean' && t !== 'bigint') {
      plain = false;
      break;
    }
  }
  if (plain) return '{"' + values.join('","') + '"}';
  let out = '{';
  for (let i = 0; i < n; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'string') out += '"' + (v.indexOf('"') === -1 && v.indexOf('\\') === -1 ? v : v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')) + '"';
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') out += '"' + String(v) + '"';
    else return undefined;
  }
  return out + '}';
}
