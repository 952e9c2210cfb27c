import { InitCommunication1764150000000 } from './1764150000000-InitCommunication';
import { CommunicationDeadLetters1764180900000 } from './1764180900000-DeadLetters';
import { CommunicationRoutingRevision1764400000000 } from './1764400000000-RoutingRevision';
import { CommunicationAppointments1764500000000 } from './1764500000000-Appointments';
import { CommunicationOutboxTraceContext1764600000000 } from './1764600000000-OutboxTraceContext';

export const COMMUNICATION_MIGRATIONS = [
  InitCommunication1764150000000,
  CommunicationDeadLetters1764180900000,
  CommunicationRoutingRevision1764400000000,
  CommunicationAppointments1764500000000,
  CommunicationOutboxTraceContext1764600000000,
];
