import { InitCommunication1764150000000 } from './1764150000000-InitCommunication';

export const COMMUNICATION_MIGRATIONS = [InitCommunication1764150000000];
