import { BeforeApplicationShutdown, DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Registry } from 'prom-client';
import {
  IDENTITY_VERIFIER,
  IdentityVerifier,
  InternalClient,
  METRICS_REGISTRY,
  PlatformModule,
  REDIS,
  ShutdownState,
  createLogger,
  identityVerification,
} from '@dvd/platform';
import { EventStreamServer } from './events/event-stream-server';
import { EventsController } from './events/events.controller';
import { StreamAdmission } from './events/stream-admission';
import { RealtimeConfig } from './realtime.config';
import { SessionHub } from './sessions/session-hub';
import { StreamLimiter } from './sessions/stream-limiter';
import { EventLog } from './stream/event-log';
import { UnitDirectory } from './units/unit-directory';

/** Starts reading the broker's stream once the app is up; ends every stream when the replica drains or stops. */
@Injectable()
class RealtimeLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly log: EventLog,
    private readonly hub: SessionHub,
    private readonly streams: EventStreamServer,
    @Inject(ShutdownState) private readonly shutdown: ShutdownState,
  ) {}

  async onApplicationBootstrap() {
    // a draining replica ends its streams at once: the clients resume on another one
    this.shutdown.onDrain(() => this.hub.closeAll('draining'));
    await this.log.start();
    await this.streams.listen();
  }

  async beforeApplicationShutdown() {
    this.hub.stop();
    await this.streams.close();
    await this.log.stop();
  }
}

@Module({})
export class RealtimeModule {
  static register(config: RealtimeConfig): DynamicModule {
    const logger = createLogger('realtime', config.LOG_LEVEL);
    const started: { log?: EventLog } = {};
    return {
      module: RealtimeModule,
      imports: [
        PlatformModule.forService({
          service: 'realtime',
          logLevel: config.LOG_LEVEL,
          ...identityVerification(config, []),
          // a stream is logged once, when it ends (SessionHub), not with a logger per request
          unloggedPaths: ['/api/v1/events'],
          // without the recent events a replica cannot serve a resuming client: not ready until it read them
          readiness: [
            {
              name: 'event-stream',
              criticality: 'required',
              check: () => (started.log ? started.log.check() : Promise.reject(new Error('not started'))),
            },
          ],
        }),
      ],
      controllers: [EventsController],
      providers: [
        {
          provide: SessionHub,
          inject: [REDIS, METRICS_REGISTRY],
          useFactory: (redis: Redis | null, registry: Registry) =>
            new SessionHub(
              {
                windowMs: config.REALTIME_REPLAY_WINDOW_MS,
                maxEvents: config.REALTIME_BUFFER_MAX_EVENTS,
                heartbeatMs: config.REALTIME_HEARTBEAT_MS,
                maxStreams: config.REALTIME_MAX_STREAMS,
                maxBufferedBytes: config.REALTIME_MAX_BUFFERED_BYTES,
              },
              // a lease outlives two missed heartbeats, then a dead replica's streams stop counting
              new StreamLimiter(redis, config.REALTIME_MAX_STREAMS_PER_USER, 2 * config.REALTIME_HEARTBEAT_MS + 5_000),
              registry,
            ),
        },
        {
          provide: EventLog,
          inject: [SessionHub],
          useFactory: (hub: SessionHub) =>
            (started.log = new EventLog({ amqpUrl: config.AMQP_URL, windowMs: config.REALTIME_REPLAY_WINDOW_MS, log: logger }, (m) =>
              hub.accept(m),
            )),
        },
        {
          provide: UnitDirectory,
          useFactory: () => new UnitDirectory(new InternalClient(config.ROUTING_ENGINE_URL, config.SERVICE_SIGNING_KEY, 'realtime')),
        },
        {
          provide: StreamAdmission,
          inject: [EventLog, UnitDirectory, ShutdownState],
          useFactory: (log: EventLog, units: UnitDirectory, shutdown: ShutdownState) => new StreamAdmission(log, units, shutdown),
        },
        {
          provide: EventStreamServer,
          inject: [IDENTITY_VERIFIER, StreamAdmission, SessionHub, METRICS_REGISTRY],
          useFactory: (verifier: IdentityVerifier, admission: StreamAdmission, hub: SessionHub, registry: Registry) =>
            new EventStreamServer(
              {
                port: config.REALTIME_STREAM_PORT,
                host: config.BIND_HOST,
                maxStreamsPerConnection: config.REALTIME_STREAMS_PER_CONNECTION,
              },
              verifier,
              admission,
              hub,
              logger,
              registry,
            ),
        },
        RealtimeLifecycle,
      ],
    };
  }
}
