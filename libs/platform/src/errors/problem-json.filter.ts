import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE } from '@dvd/contracts';
import { ApiError, genericError, toProblem } from './problem';

/**
 * Answers every error as application/problem+json (RFC 9457). Framework HttpExceptions
 * keep their status but never their message (it may echo input); unknown errors are a
 * generic 500, logged once with the request id and without inputs.
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
