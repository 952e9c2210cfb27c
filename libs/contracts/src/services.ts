/** The deployable services. Queue names, schemas and log `service` fields use these. */
export const SERVICES = ['gateway', 'intake', 'routing-engine', 'communication', 'export-worker'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Postgres schema owned by each service that persists anything. */
export const SERVICE_SCHEMA: Record<Exclude<ServiceName, 'gateway'>, string> = {
  intake: 'intake',
  'routing-engine': 'routing',
  communication: 'communication',
  'export-worker': 'export',
};
