import { z } from 'zod';
import { loadConfig } from '../config/config';

/** The OTEL_* variables that decide whether a service traces; the SDK itself reads the rest (ADR 0023). */
const telemetryEnvSchema = z.object({
  OTEL_SDK_DISABLED: z.string().max(20).optional(),
  OTEL_TRACES_EXPORTER: z.string().max(200).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().max(2000).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().max(2000).optional(),
});
export type TelemetryEnv = z.infer<typeof telemetryEnvSchema>;

/**
 * Tracing is off unless asked for: an exporter (`OTEL_TRACES_EXPORTER`, not `none`), an OTLP
 * endpoint, or `OTEL_SDK_DISABLED=false`. `OTEL_SDK_DISABLED=true` always wins.
 */
export function tracingEnabled(env: TelemetryEnv): boolean {
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase();
  if (disabled === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '');
  if (exporters.length > 0) return !exporters.every((e) => e === 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || disabled === 'false';
}

export interface TracingOptions {
  /** Continue the trace context of incoming requests (default true; the gateway: false). */
  trustIncomingContext?: boolean;
}

let sdk: { shutdown(): Promise<void> } | null | undefined;

/**
 * Starts tracing for the service when the environment asks for it; the first call in a
 * process decides. Must run before http, express, Nest, pg, ioredis, amqplib, the AWS SDK and
 * pino are loaded — each app's `main.ts` imports its `tracing.ts` first — because the
 * instrumentations patch those modules as they are required. Off, it loads nothing.
 */
export function startTracing(service: string, o: TracingOptions = {}): boolean {
  if (sdk !== undefined) return sdk !== null;
  let env: TelemetryEnv;
  try {
    env = loadConfig(telemetryEnvSchema);
  } catch {
    env = {};
  }
  if (!tracingEnabled(env)) {
    sdk = null;
    return false;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tracing is on, and synchronously: it must patch before anything else loads
  const { startSdk } = require('./sdk') as typeof import('./sdk');
  sdk = startSdk(service, { trustIncomingContext: o.trustIncomingContext ?? true });
  return true;
}

/**
 * Whether this process traces (after {@link startTracing}). The http instrumentation then
 * adds `traceparent` to a request's headers object: a request that would otherwise hand
 * Node its headers as a raw array must use an object while this is true.
 */
export function tracingActive(): boolean {
  return sdk !== undefined && sdk !== null;
}

/** Exports the spans still buffered (on a graceful stop); bounded by `timeoutMs`. */
export async function shutdownTracing(timeoutMs = 5_000): Promise<void> {
  if (!sdk) return;
  const running = sdk;
  sdk = null;
  await Promise.race([running.shutdown().catch(() => undefined), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}
