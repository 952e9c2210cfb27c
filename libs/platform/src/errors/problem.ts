import { PROBLEM_TYPE_BASE, ProblemDetails } from '@dvd/contracts';

export type FieldError = { field: string; message: string };

/**
 * An error the API answers deliberately. `code` becomes the stable problem `type` URI
 * (`https://direktvermittlung.de/problems/<code>`). `detail` must never contain input
 * values that may be personal (Aktenzeichen, names, message contents).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? title);
    this.name = 'ApiError';
  }

  static badRequest(detail: string, errors?: FieldError[]) {
    return new ApiError(400, 'validation-failed', 'Request validation failed', detail, errors);
  }
  static unauthorized(detail = 'Authentication is required or invalid') {
    return new ApiError(401, 'unauthorized', 'Unauthorized', detail);
  }
  static notFound(what = 'resource', code = 'not-found') {
    return new ApiError(404, code, 'Not Found', `The ${what} does not exist or is not visible to you`);
  }
  static conflict(code: string, detail: string) {
    return new ApiError(409, code, 'Conflict', detail);
  }
  static unprocessable(code: string, detail: string, errors?: FieldError[]) {
    return new ApiError(422, code, 'Unprocessable Content', detail, errors);
  }
  /** The one answer for "something this service needs is unreachable": 503, retry later. */
  static unavailable(detail = 'A backing service is unavailable; nothing was changed, retry later') {
    return new ApiError(503, 'dependency-unavailable', 'Service Unavailable', detail, undefined, {
      'Retry-After': '5',
    });
  }
}

export function problemType(code: string): string {
  return PROBLEM_TYPE_BASE + code;
}

export function toProblem(err: ApiError, instance?: string, requestId?: string): ProblemDetails {
  const body: ProblemDetails = {
    type: problemType(err.code),
    title: err.title,
    status: err.status,
  };
  if (err.detail) body.detail = err.detail;
  if (instance) body.instance = instance;
  if (requestId) body.requestId = requestId;
  if (err.errors?.length) body.errors = err.errors;
  return body;
}

const GENERIC: Record<number, [string, string]> = {
  400: ['bad-request', 'Bad Request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not Found'],
  405: ['method-not-allowed', 'Method Not Allowed'],
  406: ['not-acceptable', 'Not Acceptable'],
  409: ['conflict', 'Conflict'],
  413: ['payload-too-large', 'Content Too Large'],
  415: ['unsupported-media-type', 'Unsupported Media Type'],
  422: ['unprocessable', 'Unprocessable Content'],
  429: ['rate-limited', 'Too Many Requests'],
  500: ['internal', 'Internal Server Error'],
  502: ['bad-gateway', 'Bad Gateway'],
  503: ['service-unavailable', 'Service Unavailable'],
  504: ['gateway-timeout', 'Gateway Timeout'],
};

/** A problem for a bare status, used where no domain error exists (framework errors, proxy). */
export function genericError(status: number, detail?: string): ApiError {
  const [code, title] = GENERIC[status] ?? (status >= 500 ? GENERIC[500] : GENERIC[400]);
  return new ApiError(status, code, title, detail);
}

/** Writes a problem+json answer on a raw Node/Express response (outside Nest's filter chain). */
export function sendProblem(res: import('node:http').ServerResponse, err: ApiError, instance?: string, requestId?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(toProblem(err, instance, requestId));
  for (const [k, v] of Object.entries(err.headers ?? {})) res.setHeader(k, v);
  res.statusCode = err.status;
  res.setHeader('Content-Type', 'application/problem+json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
