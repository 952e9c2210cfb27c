import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestDatabase } from '@dvd/testing';
import { DeadLetterStore, deadLetterTablesSql, messagingTablesSql, outboxTraceContextSql, serviceDataSourceOptions } from '@dvd/platform';
import { dlqProgram } from './dlq';

describe('npm run dlq', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  const saved = process.env.DATABASE_URL;

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env.DATABASE_URL = db.url;
    ds = new DataSource(serviceDataSourceOptions({ url: db.url, schema: 'routing', entities: [], migrations: [] }));
    await ds.initialize();
    await ds.query(`CREATE SCHEMA routing`);
    for (const sql of [...messagingTablesSql('routing'), ...deadLetterTablesSql('routing'), ...outboxTraceContextSql('routing')])
      await ds.query(sql);
  });

  afterAll(async () => {
    process.env.DATABASE_URL = saved;
    await ds?.destroy();
    await db?.drop();
  });

  async function dlq(...args: string[]): Promise<Array<Record<string, unknown>>> {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await dlqProgram()
        .exitOverride()
        .parseAsync(['node', 'dlq', ...args]);
    } finally {
      write.mockRestore();
    }
    return lines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async function deadLetter(referenceNumber: string) {
    const id = randomUUID();
    const envelope = {
      id,
      type: 'document.received' as const,
      occurredAt: new Date().toISOString(),
      correlationId: id,
      causationId: null,
      data: {
        documentId: randomUUID(),
        citizenId: 'c',
        authorityId: 'a',
        documentType: 't',
        serviceKey: null,
        regionKey: null,
        referenceNumber,
        createdAt: new Date().toISOString(),
      },
    };
    await new DeadLetterStore(ds).record({
      eventId: id,
      eventType: envelope.type,
      reason: 'handler-failed',
      detail: 'Error',
      attempts: 5,
      firstFailedAt: new Date(),
      size: 100,
      envelope,
    });
    return id;
  }

  it('lists without the envelope, replays through the outbox to the service queue, and purges', async () => {
    const [a, b] = [await deadLetter('AZ-1-SECRET'), await deadLetter('AZ-2-SECRET')];
    const listed = await dlq('list', '--service', 'routing-engine');
    expect(listed.map((r) => r.eventId).sort()).toEqual([a, b].sort());
    expect(listed[0]).toMatchObject({ service: 'routing-engine', eventType: 'document.received', reason: 'handler-failed', attempts: 5 });
    expect(JSON.stringify(listed)).not.toContain('SECRET');

    expect(await dlq('replay', '--service', 'routing-engine', '--id', a)).toEqual([
      { service: 'routing-engine', eventId: a, outcome: 'replayed' },
    ]);
    expect(await ds.query(`SELECT id, target_queue FROM outbox`)).toEqual([{ id: a, target_queue: 'routing-engine.events' }]);

    expect(await dlq('purge', '--service', 'routing-engine', '--id', b)).toEqual([
      { service: 'routing-engine', eventId: b, deleted: true },
    ]);
    expect(await dlq('list', '--service', 'routing-engine')).toEqual([]);
  });

  it('refuses a malformed id and an unknown service', async () => {
    await expect(dlq('purge', '--service', 'routing-engine', '--id', 'x; DROP TABLE')).rejects.toThrow();
    await expect(dlq('list', '--service', 'gateway')).rejects.toThrow();
  });
});
