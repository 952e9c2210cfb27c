// Imported first by main.ts: the instrumentations patch http, express, Nest, pg, ioredis,
// amqplib, the AWS SDK and pino only if they start before those are loaded (ADR 0023).
// Off unless OTEL_TRACES_EXPORTER or an OTLP endpoint is set.
import { startTracing } from '@dvd/platform/telemetry';

startTracing('export-worker');
