/** The deployable services. Queue names, schemas and log `service` fields use these. */
export const SERVICES = ['gateway', 'intake', 'routing-engine', 'communication', 'export-worker', 'realtime'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Postgres schema owned by each service that persists anything (the gateway and realtime keep nothing). */
export const SERVICE_SCHEMA: Record<Exclude<ServiceName, 'gateway' | 'realtime'>, string> = {
  intake: 'intake',
  'routing-engine': 'routing',
  communication: 'communication',
  'export-worker': 'export',
};
