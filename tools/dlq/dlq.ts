/**
 * `npm run dlq -- list|replay|purge [--service X] [--id ID]`: the dead letters of the
 * consuming services (`<schema>.dead_letters`, ADR 0009), straight from the database in
 * DATABASE_URL. Prints ids, types, reason codes and counts as JSON lines; never an
 * envelope. `replay` puts the stored event (same id) into the service's outbox addressed
 * to its own queue; the running service's relay publishes it. `purge` deletes.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DataSource } from 'typeorm';
import { SERVICE_SCHEMA } from '@dvd/contracts';
import { DeadLetterStore, loadConfig, migrationConfigSchema, serviceDataSourceOptions } from '@dvd/platform';

type Service = keyof typeof SERVICE_SCHEMA;
const SERVICES = Object.keys(SERVICE_SCHEMA) as Service[];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** At most this many dead letters per service and run (list, replay all, purge all). */
const MAX_ROWS = 10_000;

interface Options {
  service?: Service;
  id?: string;
}

async function withStore<T>(service: Service, work: (store: DeadLetterStore) => Promise<T>): Promise<T> {
  const { DATABASE_URL } = loadConfig(migrationConfigSchema);
  const ds = new DataSource(
    serviceDataSourceOptions({
      url: DATABASE_URL,
      schema: SERVICE_SCHEMA[service],
      entities: [],
      migrations: [],
      poolSize: 1,
      applicationName: 'dlq',
    }),
  );
  await ds.initialize();
  try {
    return await work(new DeadLetterStore(ds));
  } finally {
    await ds.destroy();
  }
}

async function all(store: DeadLetterStore) {
  const rows = [];
  let before: { lastFailedAt: string; eventId: string } | undefined;
  while (rows.length < MAX_ROWS) {
    const page = await store.list({ limit: 500, before });
    rows.push(...page);
    if (page.length < 500) break;
    const last = page[page.length - 1];
    before = { lastFailedAt: last.lastFailedAt, eventId: last.eventId };
  }
  return rows;
}

function out(line: unknown) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function needService(o: Options, action: string): Service {
  if (!o.service) throw new Error(`${action} needs --service`);
  return o.service;
}

export function dlqProgram(): Command {
  // errors throw (CommanderError) instead of exiting, so the program can be driven from tests
  const program = new Command('dlq').description('Dead letters of the event consumers').showHelpAfterError().exitOverride();
  const service = new Option('--service <name>', 'the consuming service').choices(SERVICES);
  const id = new Option('--id <eventId>', 'one dead letter (event id)').argParser((v) => {
    if (!UUID.test(v)) throw new InvalidArgumentError('must be an event id (uuid)');
    return v;
  });

  program
    .command('list')
    .description('list dead letters (newest first), of one service or all')
    .addOption(service)
    .addOption(id)
    .action(async (o: Options) => {
      for (const s of o.service ? [o.service] : SERVICES) {
        await withStore(s, async (store) => {
          const rows = o.id ? [await store.get(o.id)].filter((r) => r !== null) : await all(store);
          for (const r of rows) out({ service: s, ...r });
        });
      }
    });

  program
    .command('replay')
    .description("re-publish dead letters (same event id) to the service's own queue, then delete them")
    .addOption(service)
    .addOption(id)
    .action(async (o: Options) => {
      const s = needService(o, 'replay');
      await withStore(s, async (store) => {
        const ids = o.id ? [o.id] : (await all(store)).filter((r) => r.replayable).map((r) => r.eventId);
        for (const eventId of ids) out({ service: s, eventId, outcome: await store.replay(eventId, `${s}.events`) });
      });
    });

  program
    .command('purge')
    .description('delete dead letters: one (--id) or all of a service')
    .addOption(service)
    .addOption(id)
    .action(async (o: Options) => {
      const s = needService(o, 'purge');
      await withStore(s, async (store) => {
        const ids = o.id ? [o.id] : (await all(store)).map((r) => r.eventId);
        for (const eventId of ids) out({ service: s, eventId, deleted: await store.delete(eventId) });
      });
    });
  return program;
}

if (require.main === module) {
  dlqProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      if (err instanceof CommanderError) {
        process.exitCode = err.exitCode; // commander has printed the error (or the help)
        return;
      }
      process.exitCode = 1;
      process.stderr.write(`dlq: ${err instanceof Error ? err.message : String(err)}\n`);
    });
}
