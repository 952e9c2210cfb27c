import { createHash, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { z } from 'zod';
import { EVENT_TICKET_PATTERN } from '@dvd/contracts';
import { ApiError } from '@dvd/platform';
import type { VerifiedCaller } from '../auth/jwt-verifier';

/** How long a ticket may wait for its stream. */
export const TICKET_TTL_MS = 30_000;

const Stored = z.object({
  userId: z.string().min(1).max(200),
  role: z.enum(['citizen', 'official', 'admin', 'platform-admin']),
  authorityId: z.string().max(50).nullable(),
  expiresAt: z.number().int().positive(),
});

/** A fresh ticket: 256 random bits, base64url (43 characters, no padding). */
export const newTicket = (): string => randomBytes(32).toString('base64url');

/** Only the ticket's hash is a key: a Redis dump does not hold usable tickets. */
export const ticketKey = (ticket: string): string => `events-ticket:${createHash('sha256').update(ticket).digest('hex')}`;

const unavailable = () => ApiError.unavailable('Stream tickets are unavailable right now; retry, or stream with the Authorization header');

/**
 * Single-use tickets for the event stream (ADR 0021): a browser's EventSource cannot send an
 * Authorization header, and a token in a URL ends up in logs and histories. A ticket is 256
 * random bits, valid 30 s (never beyond the token's expiry), kept in Redis under its SHA-256
 * with the verified identity and consumed atomically (GETDEL): it opens one stream, on any
 * gateway replica, once.
 */
export class EventTickets {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs = TICKET_TTL_MS,
  ) {}

  async issue(caller: VerifiedCaller, now = Date.now()): Promise<{ ticket: string; expiresAt: string }> {
    if (this.redis.status !== 'ready') throw unavailable();
    const ttl = Math.min(this.ttlMs, caller.expiresAt * 1000 - now);
    if (ttl <= 0) throw ApiError.unauthorized('The token has expired');
    const ticket = newTicket();
    const stored: z.infer<typeof Stored> = {
      userId: caller.userId,
      role: caller.role,
      authorityId: caller.authorityId,
      expiresAt: caller.expiresAt,
    };
    try {
      await this.redis.set(ticketKey(ticket), JSON.stringify(stored), 'PX', ttl);
    } catch {
      throw unavailable();
    }
    return { ticket, expiresAt: new Date(now + ttl).toISOString() };
  }

  /** The identity a ticket was issued to, once; null for an unknown, expired or used ticket. */
  async redeem(ticket: string): Promise<VerifiedCaller | null> {
    if (!EVENT_TICKET_PATTERN.test(ticket)) return null;
    if (this.redis.status !== 'ready') throw unavailable();
    let raw: string | null;
    try {
      raw = await this.redis.getdel(ticketKey(ticket));
    } catch {
      throw unavailable();
    }
    if (raw === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return null;
    }
    const result = Stored.safeParse(parsed);
    if (!result.success || result.data.expiresAt * 1000 <= Date.now()) return null;
    return result.data;
  }
}
