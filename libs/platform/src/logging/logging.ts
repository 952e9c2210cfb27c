import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { Logger, LoggerOptions } from 'pino';

/**
 * Paths pino blanks out wherever they appear. A second line of defence: the first is
 * that request and response bodies and headers are never logged at all (only the
 * allowlisted fields of `serializers` below).
 */
export const REDACT_PATHS = [
  'authorization',
  'token',
  'accessToken',
  'password',
  'secret',
  'ingestSecret',
  'referenceNumber',
  'contentBlob',
  'encryptedPayload',
  'name',
  'phone',
  'email',
  '*.authorization',
  '*.token',
  '*.ingestSecret',
  '*.secret',
  '*.referenceNumber',
  '*.contentBlob',
  '*.encryptedPayload',
  '*.name',
  '*.phone',
  '*.email',
  'req.headers',
  'res.headers',
  'data.referenceNumber',
];

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's request id if it looks sane, otherwise a fresh one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

export function baseLoggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

/** A plain pino logger for code outside Nest's container (bootstrap, tools). */
export function createLogger(service: string, level = 'info'): Logger {
  return pino(baseLoggerOptions(service, level));
}

/** Path without the query string: queries may carry filter values. */
function pathOnly(url: string | undefined): string {
  return (url ?? '').split('?')[0];
}

/** nestjs-pino module: one JSON line per request with request id, service and user id. */
export function loggingModule(service: string, level: string): DynamicModule {
  return LoggerModule.forRoot({
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
