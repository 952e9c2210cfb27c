import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE } from '@dvd/contracts';
import { ApiError, genericError, toProblem } from './problem';

/** Socket-level failures: the dependency is unreachable, refused, reset or slow. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ESOCKETTIMEDOUT',
]);
/** SQLSTATEs of a database that is not there (class 08: connection exception; 57P0x: shutting down; 53300: no slots). */
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;
const PG_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|connection is not established/i;

type MaybeDependencyError = {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
};

/**
 * Whether an error means that a backing service (Postgres, S3) could not be reached during
 * the request, as opposed to a bug or a refusal: such a request may succeed when retried.
 * Postgres: socket errors, connection-exception SQLSTATEs and the pool's connection
 * messages (also inside TypeORM's QueryFailedError). S3 (AWS SDK errors carry `$metadata`):
 * socket errors, timeouts and 5xx answers.
 */
export function isDependencyUnavailable(err: unknown, depth = 0): boolean {
  const e = err as MaybeDependencyError | undefined;
  if (!e || typeof e !== 'object' || depth > 3) return false;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && (NETWORK_CODES.has(code) || PG_UNAVAILABLE.test(code))) return true;
  if (e.$metadata) {
    const status = e.$metadata.httpStatusCode;
    if (e.name === 'TimeoutError' || e.name === 'RequestTimeout' || status === undefined || status >= 500) return true;
  }
  if (PG_CONNECTION_MESSAGES.test(String(e.message ?? ''))) return true;
  return isDependencyUnavailable(e.driverError, depth + 1) || isDependencyUnavailable(e.cause, depth + 1);
}

/** The one answer for "a backing service is unreachable": 503, retry later. */
export function dependencyUnavailable(): ApiError {
  return ApiError.unavailable();
}

/**
 * Answers every error as application/problem+json (RFC 9457). Framework HttpExceptions
 * keep their status but never their message (it may echo input); unknown errors are a
 * generic 500, logged once with the request id and without inputs; an unreachable
 * database or object store is a 503 `dependency-unavailable` with Retry-After.
 */
@Catch()
export class ProblemJsonFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemJsonFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const apiError = this.toApiError(exception, req);
    const requestId = String(req.headers['x-request-id'] ?? '') || undefined;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [k, v] of Object.entries(apiError.headers ?? {})) res.setHeader(k, v);
    res
      .status(apiError.status)
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(toProblem(apiError, req.originalUrl?.split('?')[0], requestId)));
  }

  private toApiError(exception: unknown, req: Request): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status >= 500) this.logUnexpected(exception, req);
      return genericError(status, status === 404 ? 'No such resource' : undefined);
    }
    const status = (exception as { status?: unknown; statusCode?: unknown })?.status;
    // body-parser and similar express middleware throw errors carrying a 4xx status
    if (typeof status === 'number' && status >= 400 && status < 500) return genericError(status);
    if (isDependencyUnavailable(exception)) {
      const e = exception as MaybeDependencyError;
      this.logger.warn(
        { requestId: req.headers['x-request-id'], errorName: typeof e?.name === 'string' ? e.name : undefined, code: e?.code },
        'backing service unavailable',
      );
      return dependencyUnavailable();
    }
    this.logUnexpected(exception, req);
    return genericError(500, 'An unexpected error occurred; it has been logged with the request id');
  }

  private logUnexpected(exception: unknown, req: Request) {
    const err = exception instanceof Error ? exception : new Error('non-error thrown');
    // Only the error's class and stack: its message may quote input, so keep it out.
    this.logger.error(
      { requestId: req.headers['x-request-id'], errorName: err.name, stack: err.stack?.split('\n').slice(1, 6).join('\n') },
      'unhandled error',
    );
  }
}
