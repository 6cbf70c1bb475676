/**
 * Expected failures are values or coded domain errors; one exception filter maps them to
 * HTTP. Services never throw HTTP exceptions.
 */
export interface Problem {
  /** Where the problem is: a field path (`batch[3].timestamp`), or `file:line:col`. */
  path: string;
  message: string;
}

export type DomainErrorCode =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class InvalidInput extends DomainError {
  constructor(message: string, problems: Problem[] = []) {
    super('invalid', message, problems);
  }
}

export class NotFound extends DomainError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** Formats a path array as `a.b[2].c`. */
export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}
