import {
  BeforeApplicationShutdown,
  DynamicModule,
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
  Provider,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import Redis from 'ioredis';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { IdentityGuard, IdentityVerifier, IdentityVerifierOptions } from '../auth-context/identity.guard';
import { ReplayGuard } from '../auth-context/replay-guard';
import { ServiceDataSourceOptions, openServiceDatabase, serviceDataSourceOptions } from '../database/database';
import { ProblemJsonFilter } from '../errors/problem-json.filter';
import { HealthController, METRICS_REGISTRY, ProbeCriticality, READINESS_PROBES, ReadinessProbe } from '../health/health.controller';
import { createMetricsRegistry } from '../health/metrics';
import { ShutdownState } from '../health/shutdown-state';
import { createLogger } from '../logging/logger';
import { loggingModule } from '../logging/logging';
import { ConsumerDiscovery } from '../messaging/consumer-discovery';
import { deadLetterController } from '../messaging/dead-letter.controller';
import { Messaging } from '../messaging/messaging';
import { MESSAGING_ENTITIES } from '../messaging/messaging-tables';
import { ObjectStorage, ObjectStorageOptions } from '../storage/object-storage';

export const REDIS = Symbol('REDIS');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
/** The service's IdentityVerifier, or null when it verifies no identities (gateway, dev IdP). */
export const IDENTITY_VERIFIER = Symbol('IDENTITY_VERIFIER');

export interface PlatformOptions {
  service: string;
  logLevel: string;
  /** Verify signed identity on every non-public route (all services but gateway and dev IdP); needs `redis` for replay refusal. */
  identity?: IdentityVerifierOptions;
  database?: Omit<ServiceDataSourceOptions, 'applicationName'>;
  messaging?: { amqpUrl: string; maxDeliveries: number; retryDelaysMs?: number[]; relayIntervalMs?: number; relayEnabled?: boolean };
  storage?: ObjectStorageOptions;
  /**
   * `optional`: the service works without Redis (gateway: per-replica rate limits;
   * routing-engine: rules from Postgres), so an outage shows in readiness as degraded
   * instead of taking every replica out of rotation.
   */
  redis?: { url: string; keyPrefix?: string; optional?: boolean };
  /** GET paths served as long-lived streams: no per-request logger (see loggingModule); the service logs them itself. */
  unloggedPaths?: readonly string[];
  /** Readiness checks of the service's own (e.g. realtime: its event stream has caught up). */
  readiness?: ReadinessProbe[];
}

/**
 * Registers the service's `@Consumes` handlers once every provider exists (a duplicate
 * refuses the boot here), then starts the bus after all modules are initialised.
 */
@Injectable()
class MessagingLifecycle implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly messaging: Messaging,
    private readonly consumers: ConsumerDiscovery,
  ) {}
  onModuleInit() {
    this.consumers.registerWith(this.messaging);
  }
  async onApplicationBootstrap() {
    await this.messaging.start();
  }
  async beforeApplicationShutdown() {
    await this.messaging.stop();
  }
}

@Injectable()
class ClientsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis | null,
    @Inject(ObjectStorage) private readonly storage: ObjectStorage | null,
  ) {}
  async onApplicationShutdown() {
    this.storage?.destroy();
    if (!this.redis) return;
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis?.disconnect());
    else this.redis.disconnect(); // down or reconnecting: stop trying
  }
}

/**
 * The PlatformOptions of a service that verifies identities: its verify keys, the
 * services it accepts on its internal routes, and Redis for replay refusal (optional for
 * readiness: without it each replica remembers signatures on its own).
 */
export function identityVerification(
  config: { IDENTITY_VERIFY_KEYS: string; IDENTITY_HMAC_KEYS?: string; REDIS_URL: string; REDIS_KEY_PREFIX: string },
  callers: readonly string[] = [],
  o: { publicPaths?: readonly string[] } = {},
): Pick<PlatformOptions, 'identity' | 'redis'> {
  return {
    identity: { verifyKeys: config.IDENTITY_VERIFY_KEYS, hmacKeys: config.IDENTITY_HMAC_KEYS, callers, publicPaths: o.publicPaths },
    redis: { url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, optional: true },
  };
}

type Token = string | symbol | typeof Messaging | typeof ObjectStorage | typeof ShutdownState;

/**
 * Everything a service needs from the platform, wired once: structured logging,
 * problem+json errors, the identity guard, health and metrics, and, as the service
 * asks, its database (migrated at start), event bus, object storage and Redis.
 */
export class PlatformModule {
  static forService(o: PlatformOptions): DynamicModule {
    const log = createLogger(o.service, o.logLevel);
    const imports: DynamicModule[] = [loggingModule(o.service, o.logLevel, o.unloggedPaths)];
    const providers: Provider[] = [
      { provide: APP_FILTER, useClass: ProblemJsonFilter },
      { provide: SERVICE_NAME, useValue: o.service },
      { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry(o.service) },
      ShutdownState,
    ];
    const exportsList: Token[] = [SERVICE_NAME, METRICS_REGISTRY, ShutdownState];
    // Readiness (ADR 0013): only the database is required to serve requests. The broker is
    // reached through the outbox (events wait in Postgres) and the object store only by
    // some requests (those answer 503 + Retry-After themselves): both are `degraded`.
    const probes: Array<{ name: string; token: Token | ReturnType<typeof getDataSourceToken>; criticality: ProbeCriticality }> = [];

    const identity = o.identity;
    providers.push({
      provide: IDENTITY_VERIFIER,
      inject: [REDIS],
      useFactory: (redis: Redis | null) => {
        if (!identity) return null;
        // a Redis outage leaves each replica its own memory of seen signatures (ADR 0014)
        const replay = new ReplayGuard(redis, undefined, () => log.warn('replay check fell back to process memory (Redis unavailable)'));
        return new IdentityVerifier({ ...identity, service: o.service }, replay);
      },
    });
    exportsList.push(IDENTITY_VERIFIER);
    if (identity) providers.push({ provide: APP_GUARD, useClass: IdentityGuard });

    if (o.database) {
      const db: ServiceDataSourceOptions = {
        ...o.database,
        entities: [...(o.database.entities as unknown[]), ...MESSAGING_ENTITIES] as ServiceDataSourceOptions['entities'],
        applicationName: o.service,
      };
      imports.push(
        TypeOrmModule.forRootAsync({
          useFactory: () => serviceDataSourceOptions(db),
          dataSourceFactory: async () => openServiceDatabase(db, log),
        }),
      );
      probes.push({ name: 'database', token: getDataSourceToken(), criticality: 'required' });
    }

    if (o.messaging) {
      if (!o.database) throw new Error('messaging needs the database (outbox and processed events)');
      const m = o.messaging;
      providers.push(
        {
          provide: Messaging,
          inject: [getDataSourceToken(), METRICS_REGISTRY],
          useFactory: (dataSource: DataSource, metrics: Registry) =>
            new Messaging({
              amqpUrl: m.amqpUrl,
              service: o.service,
              maxDeliveries: m.maxDeliveries,
              retryDelaysMs: m.retryDelaysMs,
              dataSource,
              log,
              relayIntervalMs: m.relayIntervalMs,
              relayEnabled: m.relayEnabled,
              metrics,
            }),
        },
        ConsumerDiscovery,
        MessagingLifecycle,
      );
      imports.push({ module: DiscoveryModule });
      exportsList.push(Messaging);
      probes.push({ name: 'broker', token: Messaging, criticality: 'degraded' });
    }

    providers.push({ provide: ObjectStorage, useFactory: () => (o.storage ? new ObjectStorage(o.storage) : null) });
    exportsList.push(ObjectStorage);
    if (o.storage) probes.push({ name: 'storage', token: ObjectStorage, criticality: 'degraded' });

    providers.push({
      provide: REDIS,
      useFactory: async () => {
        if (!o.redis) return null;
        const redis = new Redis(o.redis.url, {
          keyPrefix: o.redis.keyPrefix,
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          commandTimeout: 1_000,
          // the commands of one event-loop turn (a burst of requests' rate-limit and replay
          // checks) leave in one write: a system call per turn, not per command
          enableAutoPipelining: true,
        });
        redis.on('error', () => undefined); // reported by readiness and by the callers' fallbacks
        // give the first connection a moment, so the first requests do not see "not connected";
        // a Redis that is down does not stop the service (it is a cache and counter store only)
        await new Promise<void>((resolve) => {
          redis.once('ready', () => resolve());
          setTimeout(resolve, 2_000).unref();
        });
        return redis;
      },
    });
    exportsList.push(REDIS);
    if (o.redis) probes.push({ name: 'redis', token: REDIS, criticality: o.redis.optional ? 'degraded' : 'required' });
    providers.push(ClientsLifecycle);

    providers.push({
      provide: READINESS_PROBES,
      inject: probes.map((p) => p.token),
      useFactory: (...deps: unknown[]): ReadinessProbe[] => [
        ...probes.map((p, i) => ({ name: p.name, check: probeFor(p.name, deps[i]), criticality: p.criticality })),
        ...(o.readiness ?? []),
      ],
    });

    return {
      module: PlatformModule,
      global: true,
      imports,
      // every service with an event bus serves its dead letters to platform admins
      controllers: o.messaging ? [HealthController, deadLetterController(o.service)] : [HealthController],
      providers,
      exports: [...exportsList, ...imports],
    };
  }
}

function probeFor(name: string, dep: unknown): () => Promise<void> {
  switch (name) {
    case 'database':
      return async () => {
        await (dep as DataSource).query('SELECT 1');
      };
    case 'broker':
      return async () => {
        if (!(dep as Messaging).isConnected()) throw new Error('not connected');
      };
    case 'storage':
      return () => (dep as ObjectStorage).ping();
    case 'redis':
      return async () => {
        await (dep as Redis).ping();
      };
    default:
      return async () => undefined;
  }
}
