/** docker-compose.yml: the service shape the checks read, and the Compose JSON schema (shipped in dclint). */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { COMPOSE_SCHEMA } from './deploy-inputs';
import { Json, read } from './yaml-files';

export interface ComposeService {
  image?: string;
  build?: string | { target?: string; args?: Record<string, string> | string[] };
  ports?: unknown[];
  network_mode?: string;
  environment?: Record<string, unknown> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
}

/** The variable names in a service's `environment` (mapping or `KEY=value` list form). */
export function composeEnvKeys(service: ComposeService): string[] {
  const env = service.environment;
  if (Array.isArray(env)) return env.map((e) => e.split('=')[0]);
  return env ? Object.keys(env) : [];
}

/** A validator for the Compose JSON schema. */
export function composeValidator() {
  const schema = JSON.parse(read(COMPOSE_SCHEMA)) as Json;
  // The schema names draft-07 as "https://json-schema.org/draft-07/schema" (https, no
  // "#"), an id ajv does not know. Ajv's default class is draft-07 anyway.
  delete schema.$schema;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}
