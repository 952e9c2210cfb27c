import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Appointments people can keep (ADR 0022).
 *
 * - `appointments`: one row per APPOINTMENT thread once a slot was confirmed: the official it is
 *   with (who proposed the slots) and the confirmed `slot` as a half-open range `[start, end)`,
 *   NULL after a cancellation. The exclusion constraint is the double-booking rule: no two
 *   confirmed slots of one official (of one authority) overlap. Postgres enforces it at insert
 *   and update, so two confirmations racing for overlapping slots cannot both commit.
 *   `sequence` rises with every change (the calendar file's SEQUENCE); `reminded_at` marks the
 *   `appointment.reminder` of the current slot and is cleared when the slot changes.
 * - `known_authorities`: the authorities' public display names, from `authority.changed`, for
 *   the calendar file's SUMMARY.
 *
 * btree_gist gives the gist index equality on text (`authority_id WITH =`); it is a trusted
 * extension (PostgreSQL 13+), so the service's own user may create it. It goes into this schema
 * (the only one on the service's search_path) unless the database has it already.
 */
export class CommunicationAppointments1764500000000 implements MigrationInterface {
  name = 'CommunicationAppointments1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA communication`);
    await q.query(`
      CREATE TABLE communication.appointments (
        thread_id uuid PRIMARY KEY REFERENCES communication.threads(id) ON DELETE CASCADE,
        authority_id text NOT NULL,
        official_id text NOT NULL,
        slot tstzrange,
        confirmed_at timestamptz,
        sequence integer NOT NULL DEFAULT 0,
        reminded_at timestamptz,
        CONSTRAINT appointments_slot_bounded
          CHECK (slot IS NULL OR (NOT isempty(slot) AND NOT lower_inf(slot) AND NOT upper_inf(slot))),
        CONSTRAINT appointments_no_double_booking
          EXCLUDE USING gist (authority_id WITH =, official_id WITH =, slot WITH &&) WHERE (slot IS NOT NULL)
      )`);
    // the reminder sweep: unreminded confirmed slots by start
    await q.query(
      `CREATE INDEX appointments_reminder_due_idx ON communication.appointments (lower(slot))
        WHERE slot IS NOT NULL AND reminded_at IS NULL`,
    );
    // Slots confirmed before this migration, oldest thread first. Two of them overlapping for one
    // official (possible before) cannot both be booked: the later one is left out (ON CONFLICT DO
    // NOTHING also covers exclusion constraints) and stays visible in its thread only.
    await q.query(`
      INSERT INTO communication.appointments (thread_id, authority_id, official_id, slot, confirmed_at)
      SELECT id, authority_id, created_by,
             tstzrange((appointment #>> '{confirmedSlot,start}')::timestamptz, (appointment #>> '{confirmedSlot,end}')::timestamptz, '[)'),
             last_activity_at
        FROM communication.threads
       WHERE type = 'APPOINTMENT' AND jsonb_typeof(appointment -> 'confirmedSlot') = 'object'
       ORDER BY created_at, id
      ON CONFLICT DO NOTHING`);
    await q.query(`
      CREATE TABLE communication.known_authorities (
        authority_id text PRIMARY KEY,
        name text NOT NULL,
        changed_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE communication.known_authorities`);
    await q.query(`DROP TABLE communication.appointments`);
  }
}
