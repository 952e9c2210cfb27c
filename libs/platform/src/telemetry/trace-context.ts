import { Context, ROOT_CONTEXT, context, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C trace context across the outbox and the broker (ADR 0023). Only `traceparent` is
 * carried — trace id, parent span id, sampled flag: nothing readable — never `tracestate`
 * or baggage. With tracing off there is no active span and every function here is a no-op.
 */
const w3c = new W3CTraceContextPropagator();
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The `traceparent` of the active span (stored with an outbox row), or null without one. */
export function activeTraceparent(): string | null {
  const active = context.active();
  if (!trace.getSpan(active)) return null;
  const carrier: Record<string, string> = {};
  w3c.inject(active, carrier, defaultTextMapSetter);
  return carrier.traceparent ?? null;
}

/** The context a stored `traceparent` continues (the root context for none or a malformed one). */
export function contextOfTraceparent(traceparent: unknown): Context {
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

/** The headers a message carries for its trace: `traceparent` only. */
export function traceHeaders(traceparent: string | null | undefined): Record<string, string> {
  return typeof traceparent === 'string' && TRACEPARENT.test(traceparent) ? { traceparent } : {};
}

// ---- publishing in the right context -----------------------------------------------------

/**
 * amqp-connection-manager queues a publish and may send it later (while the socket drains,
 * after a reconnect), in whatever context is active then; the amqplib instrumentation starts
 * the producer span and writes `traceparent` in that context. So the context of each publish
 * call is remembered with its headers object (which the wrapper passes on unchanged) and
 * restored when the channel really publishes.
 */
const publishContexts = new WeakMap<object, Context>();

/** Remembers the active context for the publish that carries `headers`; returns them. */
export function withPublishContext<H extends object>(headers: H): H {
  const active = context.active();
  if (trace.getSpan(active)) publishContexts.set(headers, active);
  return headers;
}

interface PublishingChannel {
  publish(exchange: string, routingKey: string, content: Buffer, options?: { headers?: unknown }, ...rest: unknown[]): boolean;
}
const wrapped = new WeakSet<object>();

/** Makes a raw amqplib channel publish in the context remembered for the message's headers. */
export function publishInRememberedContext(channel: PublishingChannel): void {
  if (wrapped.has(channel)) return;
  wrapped.add(channel);
  const publish = channel.publish;
  channel.publish = function (this: unknown, ...args: Parameters<PublishingChannel['publish']>) {
    const headers = args[3]?.headers;
    const remembered = headers && typeof headers === 'object' ? publishContexts.get(headers) : undefined;
    return remembered ? context.with(remembered, () => publish.apply(this, args)) : publish.apply(this, args);
  };
}
