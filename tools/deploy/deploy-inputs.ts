/** What the deployment checks compare against: the repository's deploy files and the apps' configuration schemas. */
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { migrationConfigSchema } from '@dvd/platform';

// The deployment checks inspect the apps' configuration schemas, the single source of truth for the
// variables each app reads. Tooling may not depend on apps in production code; a test
// (tools/deploy/deploy.int-spec.ts) that reads their schemas is the exception.
/* eslint-disable @nx/enforce-module-boundaries */
import { communicationConfigSchema } from '../../apps/communication/src/communication.config';
import { exportWorkerConfigSchema } from '../../apps/export-worker/src/export-worker.config';
import { gatewayConfigSchema } from '../../apps/gateway/src/gateway.config';
import { intakeConfigSchema } from '../../apps/intake/src/intake.config';
import { realtimeConfigSchema } from '../../apps/realtime/src/realtime.config';
import { routingEngineConfigSchema } from '../../apps/routing-engine/src/routing-engine.config';
import { webServerConfigSchema } from '../../apps/web-server/src/web-server.config';
/* eslint-enable @nx/enforce-module-boundaries */

export const ROOT = resolve(__dirname, '../..');
export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
export const ENV_EXAMPLE = join(ROOT, '.env.example');
export const DOCKERFILE = join(ROOT, 'deploy/Dockerfile');
export const K8S_BASE = join(ROOT, 'deploy/k8s/base');
export const K8S_OVERLAYS = join(ROOT, 'deploy/k8s/overlays');
export const K8S_EDGE = join(ROOT, 'deploy/k8s/edge');
export const TRAEFIK_VALUES = join(K8S_EDGE, 'traefik/helm-values.yaml');
export const VALIDATOR = join(__dirname, 'validate-k8s.mjs');
export const COMPOSE_SCHEMA = join(ROOT, 'node_modules/dclint/schemas/compose.schema.json');

/** The deployable apps (compose service = Deployment = image name) and what each reads. */
export const APPS = {
  gateway: gatewayConfigSchema,
  intake: intakeConfigSchema,
  'routing-engine': routingEngineConfigSchema,
  communication: communicationConfigSchema,
  'export-worker': exportWorkerConfigSchema,
  'web-server': webServerConfigSchema,
  realtime: realtimeConfigSchema,
} satisfies Record<string, z.AnyZodObject>;
export type App = keyof typeof APPS;
export const APP_NAMES = Object.keys(APPS) as App[];
/** Apps under apps/ that are never deployed. */
// not services: the development IdP, the e2e specs, and the dvd command line (a client; people run it on their machines)
export const NOT_DEPLOYED = ['dev-idp', 'e2e', 'cli'];
export const AUTOSCALED: App[] = ['gateway', 'intake', 'export-worker'];
/** Node's own variables (not the apps'), which compose and the manifests may set for an app: its Node options (tools/launcher/node-args.ts). */
export const NODE_RUNTIME_ENV = ['NODE_OPTIONS'];
/** Development tools that must appear in no deployed object. */
export const DEV_ONLY = ['dev-idp', 's3rver'];

export const envOf = (app: App): string[] => Object.keys(APPS[app].shape).sort();
export const MIGRATION_ENV = Object.keys(migrationConfigSchema.shape).sort();
export const ALL_APP_ENV = new Set([...APP_NAMES.flatMap(envOf), ...MIGRATION_ENV]);
/** The variable of the port an app listens on: `routing-engine` -> `ROUTING_ENGINE_PORT`; the web server's is WEB_PORT. */
export const portVar = (app: App): string => (app === 'web-server' ? 'WEB_PORT' : `${app.toUpperCase().replace(/-/g, '_')}_PORT`);
/** Apps whose /health/* is on a port of its own (never behind the Ingress): the variable of that port. */
export const HEALTH_PORT_VAR: Partial<Record<App, string>> = { 'web-server': 'WEB_HEALTH_PORT' };
/** Where the Ingress sends what: the API and the gateway's public routes, and the browser app. */
export const INGRESS_API_BACKEND: App = 'gateway';
export const INGRESS_APP_BACKEND: App = 'web-server';

/** Apps without a /metrics endpoint (no ServiceMonitor): the web server serves files and forwards to the gateway. */
export const WITHOUT_METRICS: App[] = ['web-server'];

/** Series that Prometheus itself (`up`) and kube-state-metrics provide, which the alerts may read. */
export const EXTERNAL_SERIES = ['up', 'kube_deployment_status_replicas_unavailable', 'kube_job_status_failed'];

/** A 100 MiB upload at 1 Mbit/s, in seconds: what every timeout on the upload's way must allow. */
export const SLOW_UPLOAD_S = (100 * 1024 * 1024 * 8) / 1_000_000;
