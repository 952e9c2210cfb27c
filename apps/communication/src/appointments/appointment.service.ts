import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Identity } from '@dvd/contracts';
import { ApiError } from '@dvd/platform';
import { COMMUNICATION_CONFIG } from '../communication-config.token';
import { CommunicationConfig } from '../communication.config';
import { threadNotFound } from '../threads/thread-access';
import { Slot, ThreadEntity } from '../threads/thread.entity';
import { ThreadService } from '../threads/thread.service';
import { utc } from '../threads/utc';
import { AppointmentBookings, retryingBookingDeadlocks } from './appointment-bookings';
import { appointmentCalendar } from './appointment-calendar';

type Appointment = NonNullable<ThreadEntity['appointment']>;

/** The thread's appointment; 422 `not-an-appointment` for a chat or callback thread. */
function appointmentOf(thread: ThreadEntity): Appointment {
  if (thread.type !== 'APPOINTMENT' || !thread.appointment)
    throw ApiError.unprocessable('not-an-appointment', 'Only appointment threads have slots to confirm');
  return thread.appointment;
}

export interface CalendarFile {
  filename: string;
  body: string;
}

/**
 * Appointments (ADR 0022): an official proposes slots when opening an APPOINTMENT thread, the
 * citizen confirms one, which books it for that official (never two overlapping confirmed
 * appointments of one official), either side may cancel, and a confirmed appointment can be
 * downloaded as a calendar file. The thread's `appointment.confirmedSlot` and the booking
 * change together, in one transaction under the thread's row lock.
 */
@Injectable()
export class AppointmentService {
  private readonly logger = new Logger(AppointmentService.name);
  private readonly host: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly threads: ThreadService,
    private readonly bookings: AppointmentBookings,
    @Inject(COMMUNICATION_CONFIG) private readonly config: CommunicationConfig,
  ) {
    this.host = new URL(config.PUBLIC_BASE_URL).hostname;
  }

  /** The citizen confirms a proposed slot; the same slot again changes nothing. */
  async confirm(who: Identity, id: string, start: string): Promise<ThreadEntity> {
    if (who.role !== 'citizen') throw threadNotFound();
    // a booking that lost a deadlock to a concurrent one is tried again (see isBookingDeadlock)
    return retryingBookingDeadlocks(() => this.confirmOnce(who, id, start));
  }

  private confirmOnce(who: Identity, id: string, start: string): Promise<ThreadEntity> {
    return this.db.transaction(async (manager) => {
      const thread = await this.threads.getVisible(who, id, manager, true);
      const appointment = appointmentOf(thread);
      if (thread.status === 'CLOSED') throw ApiError.conflict('thread-closed', 'The thread is closed');
      const wanted = utc(start);
      const slot = appointment.proposedSlots.find((s) => s.start === wanted);
      if (!slot)
        throw ApiError.unprocessable('not-a-proposed-slot', 'Only one of the proposed slots can be confirmed', [
          { field: 'start', message: 'is not the start of a proposed slot' },
        ]);
      const confirmed = appointment.confirmedSlot;
      if (confirmed?.start === slot.start) return thread;
      if (confirmed) throw ApiError.conflict('slot-already-confirmed', 'Another slot was confirmed already; cancel it first');
      // the official who proposed the slots (only officials open APPOINTMENT threads)
      await this.bookings.book(manager, { threadId: thread.id, authorityId: thread.authorityId, officialId: thread.createdBy, slot });
      const updated = await this.setConfirmedSlot(manager, thread, slot);
      this.logger.log({ threadId: thread.id, documentId: thread.documentId }, 'appointment confirmed');
      return updated;
    });
  }

  /**
   * Cancels the confirmed slot: the citizen, the official who proposed the slots, the
   * official holding the thread, or an admin of the authority. Nothing confirmed: unchanged.
   */
  async cancel(who: Identity, id: string): Promise<ThreadEntity> {
    return this.db.transaction(async (manager) => {
      const thread = await this.threads.getVisible(who, id, manager, true);
      const appointment = appointmentOf(thread);
      if (who.role === 'official' && who.userId !== thread.createdBy && who.userId !== thread.assignedOfficialId)
        throw ApiError.conflict('not-assignee', 'Only the official who proposed the slots or holds the thread may cancel');
      if (!appointment.confirmedSlot) return thread;
      await this.bookings.cancel(manager, thread.id);
      const updated = await this.setConfirmedSlot(manager, thread, null);
      this.logger.log({ threadId: thread.id, documentId: thread.documentId, role: who.role }, 'appointment cancelled');
      return updated;
    });
  }

  /** The confirmed appointment as an iCalendar file; 404 for other threads, 409 while nothing is confirmed. */
  async calendar(who: Identity, id: string): Promise<CalendarFile> {
    const thread = await this.threads.getVisible(who, id);
    if (thread.type !== 'APPOINTMENT') throw ApiError.notFound('appointment');
    const rows: Array<{ start: Date; end: Date; confirmed_at: Date; sequence: number; name: string | null }> = await this.db.query(
      `SELECT lower(a.slot) AS start, upper(a.slot) AS "end", a.confirmed_at, a.sequence, k.name
         FROM appointments a LEFT JOIN known_authorities k ON k.authority_id = a.authority_id
        WHERE a.thread_id = $1 AND a.slot IS NOT NULL`,
      [thread.id],
    );
    const booked = rows[0];
    if (!booked) throw ApiError.conflict('appointment-not-confirmed', 'No slot of this appointment is confirmed');
    const body = appointmentCalendar({
      threadId: thread.id,
      host: this.host,
      start: booked.start,
      end: booked.end,
      confirmedAt: booked.confirmed_at,
      sequence: booked.sequence,
      authorityName: booked.name,
      reminderLeadSeconds: Math.round(this.config.APPOINTMENT_REMINDER_LEAD.ms / 1000),
    });
    return { filename: `termin-${thread.id}.ics`, body };
  }

  private async setConfirmedSlot(manager: EntityManager, thread: ThreadEntity, slot: Slot | null): Promise<ThreadEntity> {
    await manager.query(`UPDATE threads SET appointment = $2, last_activity_at = now() WHERE id = $1`, [
      thread.id,
      JSON.stringify({ ...thread.appointment, confirmedSlot: slot }),
    ]);
    return manager.getRepository(ThreadEntity).findOneByOrFail({ id: thread.id });
  }
}
