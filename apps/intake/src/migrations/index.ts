import { InitIntake1764150000000 } from './1764150000000-InitIntake';
import { UploadsAndReadModels1764160000000 } from './1764160000000-UploadsAndReadModels';
import { PurgeRetriesAndIdempotencyLeases1764170000000 } from './1764170000000-PurgeRetriesAndIdempotencyLeases';
import { IntakeDeadLetters1764180900000 } from './1764180900000-DeadLetters';
import { RoutingRevisionAndOverdue1764400000000 } from './1764400000000-RoutingRevisionAndOverdue';
import { CaseWorkflow1764300000000 } from './1764300000000-CaseWorkflow';
import { IntakeOutboxTraceContext1764600000000 } from './1764600000000-OutboxTraceContext';

/** In order; `nx run intake:migrate` and every start apply the pending ones. */
export const INTAKE_MIGRATIONS = [
  InitIntake1764150000000,
  UploadsAndReadModels1764160000000,
  PurgeRetriesAndIdempotencyLeases1764170000000,
  IntakeDeadLetters1764180900000,
  RoutingRevisionAndOverdue1764400000000,
  CaseWorkflow1764300000000,
  IntakeOutboxTraceContext1764600000000,
];
