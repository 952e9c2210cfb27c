import { randomUUID } from 'node:crypto';
import { INestApplicationContext, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { EventMap } from '@dvd/contracts';
import { createTestDatabase, createTestVhost, pollUntil } from '@dvd/testing';
import { serviceDataSourceOptions } from '../database/database';
import { createLogger } from '../logging/logger';
import { PlatformModule } from '../service/platform.module';
import { Consumes } from './consumes.decorator';
import { DeadLetterStore, deadLetterTablesSql, outboxTraceContextSql } from './dead-letters';
import { EventContext, Messaging } from './messaging';
import { MESSAGING_ENTITIES, messagingTablesSql } from './messaging-tables';

const SCHEMA = 'consumes_test';
const log = createLogger('consumes-test', process.env.TEST_LOG_LEVEL ?? 'silent');

class ConsumesTestTables1700000000000 implements MigrationInterface {
  name = 'ConsumesTestTables1700000000000';
  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...messagingTablesSql(SCHEMA), ...deadLetterTablesSql(SCHEMA), ...outboxTraceContextSql(SCHEMA)]) await q.query(sql);
    await q.query(`CREATE TABLE ${SCHEMA}.applied (event_id uuid NOT NULL, event_type text NOT NULL, document_id uuid NOT NULL)`);
  }
  async down(): Promise<void> {}
}

/** Writes what it consumed through the event's transaction. */
@Injectable()
class RecordDocumentOnThreadClaimed {
  @Consumes('thread.claimed')
  async record(data: EventMap['thread.claimed'], { manager, envelope }: EventContext<'thread.claimed'>): Promise<void> {
    await manager.query(`INSERT INTO applied (event_id, event_type, document_id) VALUES ($1, $2, $3)`, [
      envelope.id,
      envelope.type,
      data.documentId,
    ]);
  }
}

@Injectable()
class NoteDocumentOnDocumentPurged {
  @Consumes('document.purged')
  async note(data: EventMap['document.purged'], { manager, envelope }: EventContext<'document.purged'>): Promise<void> {
    await manager.query(`INSERT INTO applied (event_id, event_type, document_id) VALUES ($1, $2, $3)`, [
      envelope.id,
      envelope.type,
      data.documentId,
    ]);
  }
}

/** A second reaction to thread.claimed in the same service: a wiring mistake. */
@Injectable()
class AlsoRecordOnThreadClaimed {
  @Consumes('thread.claimed')
  async again(): Promise<void> {}
}

/** Hands the test the module's data source, so a boot that fails can still be cleaned up. */
let opened: DataSource | undefined;
@Injectable()
class DataSourceSpy {
  constructor(ds: DataSource) {
    opened = ds;
  }
}

describe('@Consumes handlers, discovered at boot (real RabbitMQ and Postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;

  function platform() {
    return PlatformModule.forService({
      service: 'consumes-test',
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
      database: { url: db.url, schema: SCHEMA, entities: [], migrations: [ConsumesTestTables1700000000000] },
      messaging: { amqpUrl: vhost.url, maxDeliveries: 3, retryDelaysMs: [50], relayIntervalMs: 100 },
    });
  }

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
  });
  afterAll(async () => {
    await Promise.all([db.drop(), vhost.drop()]);
  });

  it('registers each decorated method with the service bus and hands it the events of its type', async () => {
    @Module({ imports: [platform()], providers: [RecordDocumentOnThreadClaimed, NoteDocumentOnDocumentPurged] })
    class ConsumingModule {}
    const app: INestApplicationContext = await NestFactory.createApplicationContext(ConsumingModule, {
      logger: false,
      abortOnError: false,
    });
    // another service publishes (its own schema and outbox), as in production
    const pubDs = new DataSource(
      serviceDataSourceOptions({ url: db.url, schema: 'consumes_pub', entities: MESSAGING_ENTITIES, migrations: [] }),
    );
    await pubDs.initialize();
    await pubDs.query(`CREATE SCHEMA consumes_pub`);
    for (const sql of [
      ...messagingTablesSql('consumes_pub'),
      ...deadLetterTablesSql('consumes_pub'),
      ...outboxTraceContextSql('consumes_pub'),
    ])
      await pubDs.query(sql);
    const publisher = new Messaging({
      amqpUrl: vhost.url,
      service: 'consumes-pub',
      maxDeliveries: 3,
      dataSource: pubDs,
      log,
      relayIntervalMs: 100,
    });
    try {
      await publisher.start();
      const ds = app.get<DataSource>(getDataSourceToken());
      const claimedDoc = randomUUID();
      const purgedDoc = randomUUID();
      // a dead letter about the purged document: consuming document.purged must delete it
      await new DeadLetterStore(ds).record({
        eventId: randomUUID(),
        eventType: 'document.routed',
        reason: 'handler-failed',
        detail: 'Error',
        attempts: 3,
        firstFailedAt: new Date(),
        size: 10,
        envelope: {
          id: randomUUID(),
          type: 'document.routed',
          occurredAt: new Date().toISOString(),
          correlationId: randomUUID(),
          causationId: null,
          data: { documentId: purgedDoc, authorityId: 'a-1', unitId: 'u-1', ruleId: null },
        } as never,
      });

      await publisher.transaction(async (_m, emit) => {
        await emit('thread.claimed', { threadId: randomUUID(), documentId: claimedDoc, officialId: 'official-1' });
        await emit('document.purged', { documentId: purgedDoc, authorityId: 'a-1' });
      });

      await pollUntil(async () => ((await ds.query(`SELECT 1 FROM applied`)) as unknown[]).length === 2, { what: 'both events applied' });
      const applied = (await ds.query(`SELECT event_type, document_id FROM applied ORDER BY event_type`)) as unknown[];
      expect(applied).toEqual([
        { event_type: 'document.purged', document_id: purgedDoc },
        { event_type: 'thread.claimed', document_id: claimedDoc },
      ]);
      // the platform's own reaction to a purge still runs with a decorated handler
      expect(await ds.query(`SELECT count(*)::int AS n FROM dead_letters`)).toEqual([{ n: 0 }]);
    } finally {
      await publisher.stop();
      await pubDs.destroy();
      await app.close();
    }
  });

  it('refuses to boot a service with two handlers for one event type, naming both', async () => {
    @Module({ imports: [platform()], providers: [DataSourceSpy, RecordDocumentOnThreadClaimed, AlsoRecordOnThreadClaimed] })
    class DuplicateModule {}
    opened = undefined;
    try {
      await expect(NestFactory.createApplicationContext(DuplicateModule, { logger: false, abortOnError: false })).rejects.toThrow(
        /thread\.claimed has two consumers.*RecordDocumentOnThreadClaimed\.record.*AlsoRecordOnThreadClaimed\.again|thread\.claimed has two consumers.*AlsoRecordOnThreadClaimed\.again.*RecordDocumentOnThreadClaimed\.record/,
      );
    } finally {
      const spied = opened as DataSource | undefined; // set by DataSourceSpy during the boot
      if (spied?.isInitialized) await spied.destroy();
    }
  });

  it('refuses a second handler for a type on the bus itself', () => {
    const bus = new Messaging({ amqpUrl: vhost.url, service: 'consumes-unit', maxDeliveries: 3, dataSource: {} as DataSource, log });
    bus.on('thread.claimed', async () => undefined);
    expect(() => bus.on('thread.claimed', async () => undefined)).toThrow(/thread\.claimed already has a handler in consumes-unit/);
  });
});
