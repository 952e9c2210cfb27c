import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { EventType } from '@dvd/contracts';
import { CONSUMES_METADATA } from './consumes.decorator';
import { EventHandler, Messaging } from './messaging';

/** One `@Consumes` method found on a provider. */
export interface DiscoveredConsumer {
  type: EventType;
  /** `ClassName.method`, for errors and logs. */
  name: string;
  handler: EventHandler<EventType>;
}

/**
 * Finds every `@Consumes(type)` method on the application's providers (like `@OnEvent`)
 * and registers it with the service's {@link Messaging}. A service has one handler per
 * event type: a second one is a wiring mistake, refused with both names.
 */
@Injectable()
export class ConsumerDiscovery {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  find(): DiscoveredConsumer[] {
    const found = new Map<EventType, DiscoveredConsumer>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      // request-scoped and not-yet-resolved providers have no instance to call; consumers are singletons
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = (instance as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const type = this.reflector.get<EventType | undefined>(CONSUMES_METADATA, fn as () => unknown);
        if (!type) continue;
        const name = `${instance.constructor.name}.${method}`;
        const before = found.get(type);
        if (before)
          throw new Error(
            `Event ${type} has two consumers in this service (${before.name} and ${name}); a service handles an event type once — merge the reactions or move one to another service`,
          );
        found.set(type, { type, name, handler: (data, ctx) => (fn as EventHandler<EventType>).call(instance, data, ctx) });
      }
    }
    return [...found.values()];
  }

  registerWith(messaging: Messaging): DiscoveredConsumer[] {
    const consumers = this.find();
    for (const c of consumers) messaging.on(c.type, c.handler);
    return consumers;
  }
}
