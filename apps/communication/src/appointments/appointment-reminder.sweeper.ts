import { Inject, Injectable, Logger } from '@nestjs/common';
import { BatchSweeper, Messaging } from '@dvd/platform';
import { COMMUNICATION_CONFIG } from '../communication-config.token';
import { CommunicationConfig } from '../communication.config';

/** Appointments reminded of per transaction; a pass continues until none is due. */
export const REMINDER_BATCH = 100;

interface DueRow {
  thread_id: string;
  document_id: string;
  authority_id: string;
  unit_id: string | null;
  citizen_id: string;
  official_id: string;
  starts_at: Date;
  ends_at: Date;
}

/**
 * Reminders (ADR 0022): every APPOINTMENT_REMINDER_SWEEP_INTERVAL_MS, confirmed appointments
 * that start within APPOINTMENT_REMINDER_LEAD (and have not started) are marked (`reminded_at`)
 * and announced with `appointment.reminder`, in one transaction, once per confirmation.
 *
 * Every replica sweeps; rows are taken `FOR UPDATE SKIP LOCKED` and the mark is re-checked
 * under the lock, so replicas share the work and each confirmation is reminded of exactly once.
 * A cancellation sets the slot to NULL and a new confirmation clears the mark, both under the
 * same row lock: a cancelled slot is never reminded of, a changed one is reminded of anew with
 * its new start, and a reminder carries the slot as it was when it was marked.
 */
@Injectable()
export class AppointmentReminderSweeper extends BatchSweeper {
  constructor(
    private readonly messaging: Messaging,
    @Inject(COMMUNICATION_CONFIG) private readonly config: CommunicationConfig,
  ) {
    super(new Logger(AppointmentReminderSweeper.name), {
      name: 'appointment reminder sweep',
      batchSize: REMINDER_BATCH,
      intervalMs: () => config.APPOINTMENT_REMINDER_SWEEP_INTERVAL_MS,
      done: ['appointments', 'appointment reminders emitted'],
    });
  }

  /** Marks and announces up to REMINDER_BATCH due appointments in one transaction (ids and times only). */
  protected batch(): Promise<number> {
    return this.messaging.transaction(async (manager, emit) => {
      // appointments_reminder_due_idx serves the scan
      const rows: DueRow[] = await manager.query(
        `WITH due AS (
           SELECT thread_id FROM appointments
            WHERE slot IS NOT NULL AND reminded_at IS NULL
              AND lower(slot) > now() AND lower(slot) <= now() + $1::float8 * interval '1 millisecond'
            ORDER BY lower(slot) LIMIT ${REMINDER_BATCH} FOR UPDATE SKIP LOCKED
         ), marked AS (
           UPDATE appointments a SET reminded_at = now() FROM due
            WHERE a.thread_id = due.thread_id AND a.slot IS NOT NULL AND a.reminded_at IS NULL
            RETURNING a.thread_id, a.authority_id, a.official_id, lower(a.slot) AS starts_at, upper(a.slot) AS ends_at
         )
         SELECT m.*, t.document_id, t.citizen_id, k.unit_id
           FROM marked m JOIN threads t ON t.id = m.thread_id
           LEFT JOIN known_documents k ON k.document_id = t.document_id`,
        [this.config.APPOINTMENT_REMINDER_LEAD.ms],
      );
      for (const r of rows) {
        await emit('appointment.reminder', {
          threadId: r.thread_id,
          documentId: r.document_id,
          authorityId: r.authority_id,
          unitId: r.unit_id,
          citizenId: r.citizen_id,
          officialId: r.official_id,
          startsAt: r.starts_at.toISOString(),
          endsAt: r.ends_at.toISOString(),
        });
      }
      return rows.length;
    });
  }
}
