import { SetMetadata } from '@nestjs/common';
import { EventMap, EventType } from '@dvd/contracts';
import type { EventContext } from './messaging';

/** Metadata key under which {@link Consumes} records the event type on a handler method. */
export const CONSUMES_METADATA = 'dvd:consumes';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * Accepts a method whose parameters are exactly `(EventMap[K], EventContext<K>)` (or a
 * prefix of them) and returns a Promise; anything else is a compile error naming the
 * expected signature (a method's parameters are otherwise compared bivariantly, so a
 * handler of a related event's data would slip through).
 */
type HandlerCheck<K extends EventType, M> = M extends (...args: infer P) => Promise<void>
  ? Same<P, [EventMap[K], EventContext<K>]> extends true
    ? unknown
    : Same<P, [EventMap[K]]> extends true
      ? unknown
      : Same<P, []> extends true
        ? unknown
        : { 'a consumer takes (data: EventMap[K], ctx: EventContext<K>) of the event it consumes': K }
  : { 'a consumer returns a Promise<void>': K };

/**
 * Declares the method as this service's handler of one event type. The platform finds
 * every decorated method at boot (see `ConsumerDiscovery`) and registers it with the
 * service's `Messaging` before the consumer starts; two handlers of one type in one
 * service refuse the boot. The handler runs in the event's transaction: `ctx.manager`
 * for its writes, `ctx.emit` for follow-up events.
 *
 * One class per reaction, named by what it does (`RouteDocumentOnDocumentReceived`), in a
 * `*.consumer.ts` file, so that searching for an event's name finds its producer and
 * every consumer.
 */
export function Consumes<K extends EventType>(type: K) {
  return <M>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M> & HandlerCheck<K, M>): void => {
    SetMetadata(CONSUMES_METADATA, type)(target, key, descriptor);
  };
}
