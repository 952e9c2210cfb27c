import { z } from 'zod';
import { ApiError, FieldError } from './problem';

/**
 * Validates input with a zod schema and turns failures into a 400 problem with errors[].
 * Messages name fields and rules, never the offending values.
 */
export function parseOrThrow<S extends z.ZodTypeAny>(schema: S, input: unknown, detail = 'The request body is invalid'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data as z.output<S>;
  throw ApiError.badRequest(detail, zodFieldErrors(result.error));
}

export function zodFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: 'is not a known field' }))
      : [fieldError(issue)],
  );
}

function fieldError(issue: z.ZodIssue): FieldError {
  return {
    field: issue.path.join('.') || '(body)',
    message: messageOf(issue),
  };
}

/** zod's own messages for these codes quote the received value, which may be personal. */
function messageOf(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.received === 'undefined' ? 'is required' : `must be a ${issue.expected}`;
    case 'invalid_enum_value':
      return `must be one of ${issue.options.map(String).join(', ')}`;
    case 'invalid_literal':
      return `must be ${JSON.stringify(issue.expected)}`;
    case 'invalid_union_discriminator':
      return `must be one of ${issue.options.map(String).join(', ')}`;
    default:
      return issue.message;
  }
}
