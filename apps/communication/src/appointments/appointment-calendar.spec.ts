import { appointmentCalendar, appointmentSummary } from './appointment-calendar';

const base = {
  threadId: '0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10',
  host: 'dvd.example',
  start: new Date('2026-12-01T09:00:00.000Z'),
  end: new Date('2026-12-01T09:30:00.000Z'),
  confirmedAt: new Date('2026-11-25T10:15:00.789Z'),
  sequence: 3,
  authorityName: 'Bauamt Musterstadt',
  reminderLeadSeconds: 1800,
};

describe('appointmentSummary', () => {
  it('names the authority, on one line and bounded, or nobody', () => {
    expect(appointmentSummary('Bauamt Musterstadt')).toBe('Termin bei Bauamt Musterstadt');
    expect(appointmentSummary(' Bauamt\n\tMusterstadt ')).toBe('Termin bei Bauamt Musterstadt');
    expect(appointmentSummary('x'.repeat(1000))).toBe(`Termin bei ${'x'.repeat(200)}`);
    expect(appointmentSummary(null)).toBe('Termin (DirektVermittlungDe)');
    expect(appointmentSummary('   ')).toBe('Termin (DirektVermittlungDe)');
  });
});

describe('appointmentCalendar', () => {
  const lines = (text: string) => text.split('\r\n');

  it('is one VEVENT in UTC with a stable UID, SEQUENCE, DTSTAMP without milliseconds and the alarm lead', () => {
    const text = appointmentCalendar(base);
    expect(text.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(lines(text)).toEqual(
      expect.arrayContaining([
        'METHOD:PUBLISH',
        `UID:${base.threadId}@dvd.example`,
        'SEQUENCE:3',
        'DTSTAMP:20261125T101500Z',
        'DTSTART:20261201T090000Z',
        'DTEND:20261201T093000Z',
        'SUMMARY:Termin bei Bauamt Musterstadt',
        'TRIGGER:-PT30M',
      ]),
    );
    expect(appointmentCalendar(base)).toBe(text); // the same appointment, the same bytes
  });
});
