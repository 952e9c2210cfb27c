import { InitExport1764150000000 } from './1764150000000-InitExport';

export const EXPORT_MIGRATIONS = [InitExport1764150000000];
