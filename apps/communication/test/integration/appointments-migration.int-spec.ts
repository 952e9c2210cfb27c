import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { migrateOnly } from '@dvd/platform';
import { createTestDatabase } from '@dvd/testing';
import { databaseOptions } from '../../src/app.module';
import { COMMUNICATION_MIGRATIONS } from '../../src/migrations';

/**
 * The appointments migration (ADR 0022) on a database with confirmed appointments from before:
 * they become bookings, oldest thread first; of two overlapping ones of one official the later
 * is left out (the constraint holds from the first row on), unconfirmed and other threads are not
 * booked, and a booking is refused afterwards where it would overlap.
 */
describe('migration: appointments from before become bookings (real Postgres)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    const before = COMMUNICATION_MIGRATIONS.filter((m) => m.name !== 'CommunicationAppointments1764500000000');
    expect(before).toHaveLength(COMMUNICATION_MIGRATIONS.length - 1);
    await migrateOnly({ ...databaseOptions({ DATABASE_URL: db.url }), migrations: before });
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  }, 60_000);

  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  it('books confirmed slots, leaves out a later overlapping one, and enforces the rule from then on', async () => {
    const slot = (start: string, end: string) => ({ start, end });
    const nine = slot('2027-03-01T09:00:00.000Z', '2027-03-01T10:00:00.000Z');
    const half = slot('2027-03-01T09:30:00.000Z', '2027-03-01T10:30:00.000Z');
    const threads = {
      first: randomUUID(),
      overlapping: randomUUID(),
      colleague: randomUUID(),
      unconfirmed: randomUUID(),
      chat: randomUUID(),
    };
    const insert = async (id: string, createdBy: string, createdAt: string, appointment: object | null, type = 'APPOINTMENT') =>
      sql.query(
        `INSERT INTO communication.threads (id, document_id, citizen_id, authority_id, type, appointment, created_by, created_at)
         VALUES ($1, $2, 'c-1', 'a1', $3, $4, $5, $6)`,
        [id, randomUUID(), type, appointment && JSON.stringify(appointment), createdBy, createdAt],
      );
    await insert(threads.first, 'o-1', '2027-01-01T00:00:00Z', { proposedSlots: [nine], confirmedSlot: nine });
    await insert(threads.overlapping, 'o-1', '2027-01-02T00:00:00Z', { proposedSlots: [half], confirmedSlot: half });
    await insert(threads.colleague, 'o-2', '2027-01-03T00:00:00Z', { proposedSlots: [nine], confirmedSlot: nine });
    await insert(threads.unconfirmed, 'o-1', '2027-01-04T00:00:00Z', { proposedSlots: [nine], confirmedSlot: null });
    await insert(threads.chat, 'c-1', '2027-01-05T00:00:00Z', null, 'CHAT');

    expect(await migrateOnly(databaseOptions({ DATABASE_URL: db.url }))).toEqual(['CommunicationAppointments1764500000000']);

    const booked = await sql.query<{ thread_id: string; official_id: string; starts: Date; ends: Date; sequence: number }>(
      `SELECT thread_id, official_id, lower(slot) AS starts, upper(slot) AS ends, sequence FROM communication.appointments ORDER BY official_id`,
    );
    expect(booked.rows.map((r) => [r.thread_id, r.official_id, r.starts.toISOString(), r.ends.toISOString(), r.sequence])).toEqual([
      [threads.first, 'o-1', nine.start, nine.end, 0],
      [threads.colleague, 'o-2', nine.start, nine.end, 0],
    ]);

    // from now on Postgres refuses an overlapping booking of the same official
    await expect(
      sql.query(
        `INSERT INTO communication.appointments (thread_id, authority_id, official_id, slot, confirmed_at)
         VALUES ($1, 'a1', 'o-1', tstzrange($2, $3, '[)'), now())`,
        [threads.overlapping, half.start, half.end],
      ),
    ).rejects.toMatchObject({ code: '23P01' });
  });
});
