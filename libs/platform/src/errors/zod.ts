import { z } from 'zod';
import { plainTextSchema } from '@dvd/contracts';
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

/**
 * Path parameters, validated with the contract's schema. A value the schema refuses cannot
 * name a resource, so it is answered like a missing one (`notFound`, a 404), never with a
 * 400: ids cannot be probed (docs/api-conventions.md, Access).
 */
export function parsePathParams<S extends z.ZodTypeAny>(schema: S, params: unknown, notFound: () => ApiError): z.output<S> {
  const result = schema.safeParse(params);
  if (result.success) return result.data as z.output<S>;
  throw notFound();
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

/**
 * Characters that must never be part of a name, an Aktenzeichen or a prefix: C0 and C1
 * controls, DEL, bidirectional embeddings/overrides/isolates and marks (they make text read
 * differently from what it is — "Trojan Source"), zero-width characters and the BOM (they
 * make two equal-looking values differ), and the Unicode line/paragraph separators.
 */
export const UNSAFE_TEXT_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** True when the text holds none of UNSAFE_TEXT_CHARACTERS. */
export function isSafeText(value: string): boolean {
  return !UNSAFE_TEXT_CHARACTERS.test(value);
}

/**
 * A single-line text field (names, reference numbers, prefixes): length-bounded and free
 * of control, bidirectional and invisible characters. The problem names the field and the
 * rule, never the value. The contract's `plainTextSchema`, so that the services and the
 * OpenAPI document refuse the same characters.
 */
export function plainText(o: { max: number; trim?: boolean }) {
  return plainTextSchema(o.max, undefined, { trim: o.trim });
}
