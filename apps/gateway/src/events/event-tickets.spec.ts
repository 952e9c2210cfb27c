import { EVENT_TICKET_PATTERN, EventStreamQuery } from '@dvd/contracts';
import { newTicket, ticketKey } from './event-tickets';

describe('event stream tickets', () => {
  it('are 256 random bits in base64url, which the contract accepts and nothing longer or shorter', () => {
    const tickets = new Set(Array.from({ length: 1000 }, newTicket));
    expect(tickets.size).toBe(1000);
    for (const t of tickets) {
      expect(t).toMatch(EVENT_TICKET_PATTERN);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    }
    const one = newTicket();
    expect(EventStreamQuery.safeParse({ ticket: one }).success).toBe(true);
    expect(EventStreamQuery.safeParse({ ticket: `${one}A` }).success).toBe(false);
    expect(EventStreamQuery.safeParse({ ticket: one.slice(1) }).success).toBe(false);
    expect(EventStreamQuery.safeParse({ ticket: `${one.slice(1)}=` }).success).toBe(false);
  });

  it('are kept under their SHA-256 only, never in the clear', () => {
    const t = newTicket();
    expect(ticketKey(t)).toMatch(/^events-ticket:[0-9a-f]{64}$/);
    expect(ticketKey(t)).not.toContain(t);
    expect(ticketKey(t)).toBe(ticketKey(t));
    expect(ticketKey(t)).not.toBe(ticketKey(newTicket()));
  });
});
