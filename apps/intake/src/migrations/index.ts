import { InitIntake1764150000000 } from './1764150000000-InitIntake';

/** In order; `nx run intake:migrate` and every start apply the pending ones. */
export const INTAKE_MIGRATIONS = [InitIntake1764150000000];
