import type { z } from 'zod';
import { AppError, ErrorCode } from './errors';

/**
 * Parses request input with a zod schema, or throws a 400 whose message and `field` name the
 * first thing that is wrong, so every route reports bad input the same way.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, code: string = ErrorCode.InvalidInput): z.infer<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : 'body';
  throw new AppError(400, code, `${field}: ${issue?.message ?? 'is not valid'}`, { field });
}
