import { z } from 'zod';
import {
  amqpEnv,
  commonEnv,
  identityVerifyEnv,
  serviceSigningEnv,
  databaseEnv,
  parsePositiveDuration,
  port,
  positiveInt,
  url,
} from '@dvd/platform';

/** Days, hours, minutes, seconds: no years, months or weeks (their length depends on the calendar). */
const LEAD_PATTERN = /^P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;
/** A reminder lead is a matter of hours or days: 1 s to a year. */
const MAX_REMINDER_LEAD_MS = 366 * 24 * 3600_000;

export const communicationConfigSchema = z.object({
  ...commonEnv,
  ...databaseEnv,
  ...amqpEnv,
  COMMUNICATION_PORT: port(3003),
  BIND_HOST: z.string().default('0.0.0.0'),
  /** Intake's internal API, asked about documents whose events have not arrived yet. */
  INTAKE_URL: url(['http', 'https'], 'http://127.0.0.1:3001'),
  /** The platform's public URL (the gateway's): its host names appointments in calendar files (`UID:<threadId>@<host>`). */
  PUBLIC_BASE_URL: url(['http', 'https']),
  /** How often confirmed appointments starting within the lead are looked for and reminded of (ADR 0022). */
  APPOINTMENT_REMINDER_SWEEP_INTERVAL_MS: positiveInt(60_000),
  /**
   * How long before its start an appointment is reminded of (`appointment.reminder`, and the calendar file's alarm):
   * a positive ISO 8601 duration of days, hours, minutes or seconds (`PT24H`, `P1D`, `PT30M`), at most a year.
   */
  APPOINTMENT_REMINDER_LEAD: z
    .string()
    .default('PT24H')
    .transform((value, ctx) => {
      const ms = LEAD_PATTERN.test(value) ? parsePositiveDuration(value)?.toMillis() : undefined;
      if (ms !== undefined && ms >= 1000 && ms <= MAX_REMINDER_LEAD_MS) return { iso: value, ms };
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'must be an ISO 8601 duration of days, hours, minutes or seconds, 1 s to 366 days',
      });
      return z.NEVER;
    }),
  ...identityVerifyEnv,
  ...serviceSigningEnv,
});
export type CommunicationConfig = z.output<typeof communicationConfigSchema>;
