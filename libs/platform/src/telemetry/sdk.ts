/**
 * The OpenTelemetry Node SDK with the instrumentations the services use. Required only when
 * tracing is on (see `startTracing`), so a service without tracing never loads it.
 */
import type { IncomingMessage, RequestOptions } from 'node:http';
import { Context, SpanOptions, TextMapGetter, TextMapPropagator, TextMapSetter, Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { NodeSDK } from '@opentelemetry/sdk-node';

export interface SdkOptions {
  /**
   * Continue the trace context of incoming requests. The gateway does not: a client does not
   * choose the trace (or the sampling decision) of its request; it still sends its own
   * context on to the services.
   */
  trustIncomingContext: boolean;
}

/** Writes the context into outgoing requests and messages, never reads one from a request. */
class InjectOnlyPropagator implements TextMapPropagator {
  constructor(private readonly inner: TextMapPropagator) {}
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.inner.inject(context, carrier, setter);
  }
  extract(context: Context, _carrier: unknown, _getter: TextMapGetter): Context {
    return context;
  }
  fields(): string[] {
    return this.inner.fields();
  }
}

/**
 * Nest's instrumentation records `url.full` from `req.originalUrl`, query string included, and
 * has no hook: its tracer is wrapped so that its spans keep the path only.
 */
class NestInstrumentationWithoutQuery extends NestInstrumentation {
  protected override get tracer(): Tracer {
    const base = super.tracer;
    return {
      startSpan: (name: string, options?: SpanOptions, ctx?: Context) => {
        const full = options?.attributes?.['url.full'];
        if (typeof full !== 'string' || !full.includes('?')) return base.startSpan(name, options, ctx);
        return base.startSpan(
          name,
          { ...options, attributes: { ...options?.attributes, 'url.full': `${full.split('?')[0]}?REDACTED` } },
          ctx,
        );
      },
      startActiveSpan: base.startActiveSpan.bind(base),
    } as Tracer;
  }
}

/** Probes and scrapes are not traced: they would be most of the spans and say nothing. */
const isOperationsPath = (url: string | undefined) => /^\/(health\/|metrics(\?|$))/.test(url ?? '');

/** A query string may hold filter values: spans keep the path only (as the request log lines do). */
function withoutQuery(o: RequestOptions): string {
  const path = (o.path ?? '/').split('?')[0];
  const host = o.hostname ?? o.host ?? 'localhost';
  return `${o.protocol ?? 'http:'}//${host}${o.port ? `:${o.port}` : ''}${path}`;
}

export function startSdk(service: string, o: SdkOptions): NodeSDK {
  // W3C trace context only: no baggage, whose entries could carry anything readable
  const w3c = new W3CTraceContextPropagator();
  const sdk = new NodeSDK({
    serviceName: service,
    textMapPropagator: o.trustIncomingContext ? w3c : new InjectOnlyPropagator(w3c),
    // spans only: metrics are Prometheus' (/metrics), logs go to stdout with their trace ids
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) => isOperationsPath(req.url),
        // a client call outside any trace (a timer's) is not worth a trace of its own
        requireParentforOutgoingSpans: true,
        startIncomingSpanHook: (req: IncomingMessage) => ((req.url ?? '').includes('?') ? { 'url.query': 'REDACTED' } : {}),
        startOutgoingSpanHook: (req: RequestOptions) =>
          (req.path ?? '').includes('?') ? { 'url.full': `${withoutQuery(req)}?REDACTED` } : {},
      }),
      // request handlers only: a span per middleware would multiply every request's spans
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
      new NestInstrumentationWithoutQuery(),
      // the outbox relay and the probes query every few hundred ms outside any request
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true, enhancedDatabaseReporting: false }),
      // the command name only: keys hold user ids, values signatures
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
      new AmqplibInstrumentation(),
      new AwsInstrumentation({ suppressInternalInstrumentation: true }),
      // trace_id, span_id, trace_flags in every log line written inside a span; logs are not sent to OTLP
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  return sdk;
}
