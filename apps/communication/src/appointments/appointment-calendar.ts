import { ICalAlarmType, ICalCalendar, ICalCalendarMethod, ICalEventClass, ICalEventStatus } from 'ical-generator';

export interface CalendarAppointment {
  threadId: string;
  /** The host of the platform's public URL: `UID:<threadId>@<host>`. */
  host: string;
  start: Date;
  end: Date;
  /** When the slot was confirmed (DTSTAMP): downloads of one confirmation are identical. */
  confirmedAt: Date;
  /** Rises with every cancellation and new confirmation (SEQUENCE), so calendar apps update their copy. */
  sequence: number;
  /** The authority's public display name, or null while it is not known here. */
  authorityName: string | null;
  /** The alarm, this long before the start. */
  reminderLeadSeconds: number;
}

/** Authority names are public (the authority's own display name); bounded here all the same. */
const MAX_NAME_CHARS = 200;
const FALLBACK_SUMMARY = 'Termin (DirektVermittlungDe)';

/** The SUMMARY: neutral, German, never a person's name or the Aktenzeichen. */
export function appointmentSummary(authorityName: string | null): string {
  const name = authorityName?.replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_CHARS);
  return name ? `Termin bei ${name}` : FALLBACK_SUMMARY;
}

/**
 * A confirmed appointment as an iCalendar object (RFC 5545) for any calendar app, made by
 * ical-generator: METHOD:PUBLISH, one VEVENT with a stable UID, DTSTART/DTEND in UTC, and a
 * display VALARM. CRLF line ends and folding at 75 octets are the library's.
 */
export function appointmentCalendar(a: CalendarAppointment): string {
  const summary = appointmentSummary(a.authorityName);
  const calendar = new ICalCalendar({
    prodId: { company: 'DirektVermittlungDe', product: 'Termine', language: 'DE' },
    method: ICalCalendarMethod.PUBLISH,
  });
  calendar.createEvent({
    id: `${a.threadId}@${a.host}`,
    sequence: a.sequence,
    stamp: a.confirmedAt,
    start: a.start,
    end: a.end,
    summary,
    description: 'Vereinbart über DirektVermittlungDe. Einzelheiten stehen im Gesprächsverlauf zu Ihrem Anliegen.',
    status: ICalEventStatus.CONFIRMED,
    class: ICalEventClass.PRIVATE,
    alarms: [{ type: ICalAlarmType.display, triggerBefore: a.reminderLeadSeconds, description: `Erinnerung: ${summary}` }],
  });
  // RFC 5545 ends every content line with CRLF, the last one too; the library leaves the last one open
  const text = calendar.toString();
  return text.endsWith('\r\n') ? text : `${text}\r\n`;
}
