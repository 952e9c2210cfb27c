import { GatewayConfig } from '../gateway.config';

export type Upstream = 'intake' | 'routing-engine' | 'communication' | 'export-worker';

/**
 * Which service owns a public path (below /api/v1). More specific patterns first:
 * threads of a document belong to communication, the document itself to intake.
 */
export const ROUTE_TABLE: ReadonlyArray<[RegExp, Upstream]> = [
  [/^\/documents\/[^/]+\/threads(\/|$)/, 'communication'],
  [/^\/documents(\/|$)/, 'intake'],
  [/^\/threads(\/|$)/, 'communication'],
  [/^\/authorities(\/|$)/, 'routing-engine'],
  [/^\/admin\/unroutable-documents(\/|$)/, 'routing-engine'],
  [/^\/exports(\/|$)/, 'export-worker'],
  // every consuming service owns its dead letters; the path names the service
  [/^\/admin\/dead-letters\/intake(\/|$)/, 'intake'],
  [/^\/admin\/dead-letters\/routing-engine(\/|$)/, 'routing-engine'],
  [/^\/admin\/dead-letters\/communication(\/|$)/, 'communication'],
  [/^\/admin\/dead-letters\/export-worker(\/|$)/, 'export-worker'],
];

export function upstreamFor(pathBelowPrefix: string): Upstream | null {
  for (const [pattern, upstream] of ROUTE_TABLE) if (pattern.test(pathBelowPrefix)) return upstream;
  return null;
}

export function upstreamUrls(config: GatewayConfig): Record<Upstream, string> {
  return {
    intake: config.INTAKE_URL,
    'routing-engine': config.ROUTING_ENGINE_URL,
    communication: config.COMMUNICATION_URL,
    'export-worker': config.EXPORT_WORKER_URL,
  };
}
