import { InitExport1764150000000 } from './1764150000000-InitExport';
import { ExportLeases1764160000000 } from './1764160000000-ExportLeases';
import { ExportDedupe1764170000000 } from './1764170000000-ExportDedupe';
import { ExportDeadLetters1764180900000 } from './1764180900000-DeadLetters';
import { ScrubReceipts1764212000000 } from './1764212000000-ScrubReceipts';
import { ExportJobUnit1764500000000 } from './1764500000000-ExportJobUnit';
import { ExportOutboxTraceContext1764600000000 } from './1764600000000-OutboxTraceContext';

export const EXPORT_MIGRATIONS = [
  InitExport1764150000000,
  ExportLeases1764160000000,
  ExportDedupe1764170000000,
  ExportDeadLetters1764180900000,
  ScrubReceipts1764212000000,
  ExportJobUnit1764500000000,
  ExportOutboxTraceContext1764600000000,
];
