import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { baseLoggerOptions, requestIdFrom } from './logger';

/** Path without the query string: queries may carry filter values. */
function pathOnly(url: string | undefined): string {
  return (url ?? '').split('?')[0];
}

/**
 * nestjs-pino module: one JSON line per request with request id, service and user id.
 * `unlogged`: GET paths without the per-request logger — long-lived streams (two pino child
 * loggers per request are kilobytes per open stream); their owners log one line per stream.
 */
export function loggingModule(service: string, level: string, unlogged: readonly string[] = []): DynamicModule {
  return LoggerModule.forRoot({
    ...(unlogged.length ? { exclude: unlogged.map((path) => ({ path, method: RequestMethod.GET })) } : {}),
    pinoHttp: {
      ...baseLoggerOptions(service, level),
      genReqId: (req: IncomingMessage) => requestIdFrom(req.headers['x-request-id']),
      // only the verified caller (set by the identity guard), never an unverified header
      customProps: (req: IncomingMessage) => ({ userId: (req as IncomingMessage & { identity?: { userId: string } }).identity?.userId }),
      autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') || req.url === '/metrics' },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: pathOnly(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: (err: Error) => ({ type: err?.name }),
      },
    },
  });
}
