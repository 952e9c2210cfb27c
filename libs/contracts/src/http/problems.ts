import { PROBLEM_TYPE_BASE } from './common-types';
import { z } from './zod';

export const FieldErrorSchema = z
  .object({
    field: z.string().openapi({ description: 'Dotted path of the field.', example: 'metadata.referenceNumber' }),
    message: z.string().openapi({ example: 'Required' }),
  })
  .openapi('FieldError');

export const ProblemSchema = z
  .object({
    type: z
      .string()
      .url()
      .openapi({
        description: 'Stable URI per error code (`https://direktvermittlung.de/problems/<code>`).',
        example: `${PROBLEM_TYPE_BASE}validation-failed`,
      }),
    title: z.string().openapi({ example: 'Request validation failed' }),
    status: z.number().int().min(400).max(599).openapi({ example: 400 }),
    detail: z.string().optional().openapi({ example: 'metadata.documentType: does not match [A-Z0-9_]{1,40}' }),
    instance: z.string().optional().openapi({ description: 'The request path.', example: '/api/v1/documents' }),
    requestId: z.string().optional().openapi({ description: 'Same as the `X-Request-Id` response header.' }),
    errors: z.array(FieldErrorSchema).optional().openapi({ description: 'Field errors (validation problems only).' }),
  })
  .openapi('Problem', {
    description: 'An error (RFC 9457, `application/problem+json`). Never contains a stack trace or personal input values.',
  });

export const PROBLEM_STATUSES = [400, 401, 404, 409, 413, 415, 422, 429, 503] as const;
export type ProblemStatus = (typeof PROBLEM_STATUSES)[number];

/** The problem `type` codes (the part after PROBLEM_TYPE_BASE) the API answers, with their titles. */
export const PROBLEM_CODES = {
  'validation-failed': [400, 'Request validation failed'],
  'bad-request': [400, 'Bad Request'],
  unauthorized: [401, 'Unauthorized'],
  'not-found': [404, 'Not Found'],
  'authority-exists': [409, 'Conflict'],
  'unit-exists': [409, 'Conflict'],
  'duplicate-kid': [409, 'Conflict'],
  'idempotency-key-in-flight': [409, 'Conflict'],
  'thread-claimed': [409, 'Conflict'],
  'thread-closed': [409, 'Conflict'],
  'not-assignee': [409, 'Conflict'],
  'slot-already-confirmed': [409, 'Conflict'],
  'slot-taken': [409, 'Conflict'],
  'appointment-not-confirmed': [409, 'Conflict'],
  'not-replayable': [409, 'Conflict'],
  'export-busy': [409, 'Conflict'],
  'document-not-reroutable': [409, 'Conflict'],
  'invalid-transition': [409, 'Conflict'],
  conflict: [409, 'Conflict'],
  'payload-too-large': [413, 'Content Too Large'],
  'message-too-large': [413, 'Content Too Large'],
  'unsupported-media-type': [415, 'Unsupported Media Type'],
  'unknown-authority': [422, 'Unprocessable Content'],
  'unknown-unit': [422, 'Unprocessable Content'],
  'same-authority': [422, 'Unprocessable Content'],
  'idempotency-key-reused': [422, 'Unprocessable Content'],
  'not-an-appointment': [422, 'Unprocessable Content'],
  'not-a-proposed-slot': [422, 'Unprocessable Content'],
  unprocessable: [422, 'Unprocessable Content'],
  'rate-limited': [429, 'Too Many Requests'],
  'too-many-streams': [429, 'Too Many Requests'],
  'dependency-unavailable': [503, 'Service Unavailable'],
  'upstream-unavailable': [503, 'Service Unavailable'],
} as const satisfies Record<string, readonly [ProblemStatus, string]>;
export type ProblemCode = keyof typeof PROBLEM_CODES;

/** The shared meaning of each error status, and the codes it answers with unless a route says otherwise. */
export const PROBLEM_RESPONSES: Record<ProblemStatus, { component: string; description: string; codes: ProblemCode[] }> = {
  400: {
    component: 'BadRequest',
    description:
      'The request is malformed or fails validation (unknown fields, wrong types, bad query parameters). `errors` lists the offending fields.',
    codes: ['validation-failed'],
  },
  401: {
    component: 'Unauthorized',
    description:
      'No bearer token, or the token is invalid: bad signature, unknown issuer or `kid`, wrong audience, expired, missing ' +
      '`sub`/`iss`/`aud`/`exp`, a symmetric or `none` algorithm, or an authority-IdP token without `authority_id`.',
    codes: ['unauthorized'],
  },
  404: {
    component: 'NotFound',
    description:
      'The resource does not exist, was purged, or is not visible to the caller (the API answers 404, never 403, so that ids cannot be probed).',
    codes: ['not-found'],
  },
  409: {
    component: 'Conflict',
    description: 'The request conflicts with the current state of the resource.',
    codes: ['conflict'],
  },
  413: {
    component: 'ContentTooLarge',
    description: 'The request body exceeds the size limit of this operation.',
    codes: ['payload-too-large'],
  },
  415: {
    component: 'UnsupportedMediaType',
    description: 'The request body has a media type this operation does not accept.',
    codes: ['unsupported-media-type'],
  },
  422: {
    component: 'UnprocessableContent',
    description: 'The request is well-formed but cannot be processed.',
    codes: ['unprocessable'],
  },
  429: {
    component: 'TooManyRequests',
    description: 'The per-user rate limit (sliding window of 60 s) is exhausted; retry after `Retry-After` seconds.',
    codes: ['rate-limited'],
  },
  503: {
    component: 'ServiceUnavailable',
    description:
      'A backing service (database, broker, object storage, Redis or the owning service) is unavailable; nothing was changed. ' +
      'Retry after `Retry-After` seconds. The problem `type` ends in `/dependency-unavailable` when the owning service ' +
      'answered, and in `/upstream-unavailable` when the gateway could not reach it.',
    codes: ['dependency-unavailable', 'upstream-unavailable'],
  },
};

/** An example problem body for a code. */
export function problemExample(code: ProblemCode) {
  const [status, title] = PROBLEM_CODES[code];
  return { type: PROBLEM_TYPE_BASE + code, title, status };
}
