/**
 * `@dvd/platform/core`: the part of the platform a process without Nest needs — the typed
 * configuration (config/config.ts) and the plain pino logger (logging/logger.ts). It loads
 * zod and pino and nothing else, where `@dvd/platform` loads all of Nest, TypeORM and the
 * S3 client. The web server imports only this entry, so its image carries only its own
 * few packages (deploy/Dockerfile, stage web-server-deps).
 */
export * from './config/config';
export * from './logging/logger';
