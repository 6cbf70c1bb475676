import type { ZodError } from 'zod';
import { formatPath, Problem } from './errors';

/** Zod issues as problems that name the field path, e.g. `batch[3].event: expected string`. */
export function zodProblems(error: ZodError, prefix = ''): Problem[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path, prefix),
    message: issue.message,
  }));
}
