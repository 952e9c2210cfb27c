import { Injectable } from '@nestjs/common';
import { backOff } from 'exponential-backoff';
import { EntityManager } from 'typeorm';
import { ApiError, FieldError } from '@dvd/platform';
import { Slot } from '../threads/thread.entity';

/** Postgres' exclusion_violation: appointments_no_double_booking refused an overlapping slot. */
const EXCLUSION_VIOLATION = '23P01';

const slotTaken = (errors?: FieldError[]) =>
  new ApiError(409, 'slot-taken', 'Conflict', 'The official has another confirmed appointment at this time; choose another slot', errors);

/** Postgres' deadlock_detected. */
const DEADLOCK = '40P01';

const sqlState = (err: unknown): unknown => {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  return e?.driverError?.code ?? e?.code;
};

function isExclusionViolation(err: unknown): boolean {
  return sqlState(err) === EXCLUSION_VIOLATION;
}

/**
 * Two bookings that race for overlapping slots can deadlock instead of one failing the
 * exclusion check: Postgres enters each row in the index first, then checks it, so each
 * waits for the other (measured: ~7% of such races). The transaction that Postgres aborted
 * is simply run again; it then meets the winner's committed row and fails as `slot-taken`.
 */
export function isBookingDeadlock(err: unknown): boolean {
  return sqlState(err) === DEADLOCK;
}

/** Runs `transaction` (one that books) again when Postgres aborted it as a booking deadlock's victim. */
export function retryingBookingDeadlocks<T>(transaction: () => Promise<T>): Promise<T> {
  return backOff(transaction, { numOfAttempts: 4, startingDelay: 5, timeMultiple: 4, jitter: 'full', retry: isBookingDeadlock });
}

/**
 * The booked (confirmed) appointments, `communication.appointments` (ADR 0022). The rule
 * "one official, one appointment at a time" is the table's exclusion constraint: a booking
 * that overlaps another confirmed slot of the same official fails in Postgres, also when two
 * bookings race (the second waits for the first to commit, then fails). Slots are half-open,
 * `[start, end)`: back-to-back appointments do not overlap.
 */
@Injectable()
export class AppointmentBookings {
  /**
   * Books `slot` for the thread's appointment with `officialId` (a new booking, or a new slot
   * after a cancellation: SEQUENCE rises, the reminder is due again). 409 `slot-taken` on overlap.
   * Run it in the transaction that holds the thread's row lock.
   */
  async book(manager: EntityManager, b: { threadId: string; authorityId: string; officialId: string; slot: Slot }): Promise<void> {
    try {
      await manager.query(
        `INSERT INTO appointments (thread_id, authority_id, official_id, slot, confirmed_at)
         VALUES ($1, $2, $3, tstzrange($4::timestamptz, $5::timestamptz, '[)'), now())
         ON CONFLICT (thread_id) DO UPDATE
           SET slot = EXCLUDED.slot, confirmed_at = now(), reminded_at = NULL, sequence = appointments.sequence + 1`,
        [b.threadId, b.authorityId, b.officialId, b.slot.start, b.slot.end],
      );
    } catch (err) {
      if (isExclusionViolation(err)) throw slotTaken();
      throw err;
    }
  }

  /** Frees the thread's slot: no reminder goes out for it, and the calendar file is gone until a new confirmation. */
  async cancel(manager: EntityManager, threadId: string): Promise<void> {
    await manager.query(
      `UPDATE appointments SET slot = NULL, reminded_at = NULL, sequence = sequence + 1 WHERE thread_id = $1 AND slot IS NOT NULL`,
      [threadId],
    );
  }

  /**
   * Refuses proposed slots that overlap a confirmed appointment of the proposing official
   * (409 `slot-taken`, naming the slots). A courtesy check: the booking itself is what holds.
   */
  async refuseTaken(manager: EntityManager, authorityId: string, officialId: string, slots: Slot[]): Promise<void> {
    // served by the exclusion constraint's gist index (authority_id, official_id, slot)
    const rows: Array<{ i: number }> = await manager.query(
      `SELECT DISTINCT s.i::int AS i
         FROM unnest($3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS s(start_at, end_at, i)
         JOIN appointments a ON a.authority_id = $1 AND a.official_id = $2 AND a.slot && tstzrange(s.start_at, s.end_at, '[)')
        ORDER BY 1`,
      [authorityId, officialId, slots.map((s) => s.start), slots.map((s) => s.end)],
    );
    if (rows.length)
      throw slotTaken(
        rows.map((r) => ({ field: `appointment.proposedSlots.${r.i - 1}`, message: 'overlaps a confirmed appointment of yours' })),
      );
  }
}
