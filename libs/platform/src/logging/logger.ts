/**
 * The plain pino logger and its options, without Nest: one JSON line per event, with the
 * service name, secrets and personal data redacted. Nest services get the same options
 * through `loggingModule` (logging.ts); processes without Nest (the web server, tools)
 * use `createLogger`.
 */
import { randomUUID } from 'node:crypto';
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
