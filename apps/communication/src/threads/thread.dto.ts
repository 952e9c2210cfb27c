import { z } from 'zod';
import { AppointmentConfirmSchema, ThreadCreateSchema, ThreadListQuery } from '@dvd/contracts';

// The request shapes are the contract's (libs/contracts/src/http/threads.ts), so the OpenAPI
// document and the validation cannot drift apart.
export const createThreadSchema = ThreadCreateSchema;
export type CreateThread = z.output<typeof createThreadSchema>;

export const confirmSlotSchema = AppointmentConfirmSchema;

export const inboxQuerySchema = ThreadListQuery;

/** Normalises RFC 3339 instants to UTC ISO strings, so equal instants compare equal. */
export function utc(instantText: string): string {
  return new Date(instantText).toISOString();
}
