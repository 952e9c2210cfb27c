import type { DevIdentityKeys } from '@dvd/platform';
import type { Agent } from 'node:http';
import type { TestEncryptionKey } from '@dvd/testing';
import type { PhaseProfiler } from './profiler';
import type { BenchProcess } from './spawn';

/** The processes the launcher starts (`node …/dist/apps/<app>/src/main.js`). */
export type AppName = 'gateway' | 'intake' | 'routing-engine' | 'communication' | 'export-worker' | 'realtime' | 'dev-idp' | 'local-s3';
export type ServiceName = 'intake' | 'routing-engine' | 'communication' | 'export-worker';

/** One row of the final table (and of the JSON file). */
export interface BenchResult {
  /** The benchmark's name as used in BENCH_ONLY, e.g. `latency`. */
  benchmark: string;
  /** What was measured, e.g. `gateway req/s`. */
  metric: string;
  /** `null` when the measurement was skipped or failed (say why in `note`). */
  value: number | string | null;
  unit?: string;
  note?: string;
  /** Goes to the JSON file only (raw figures, an EXPLAIN plan, …). */
  details?: unknown;
  /** The figure of every repetition (`value` is their median). */
  reps?: number[];
  /** What the figure should be (issue #17): printed in the goals table with whether it is met. */
  goal?: Goal;
  /** An anchor that explains a figure with a goal (e.g. the reference pipeline's): printed in the goals table too, without a verdict. */
  beside?: boolean;
}

export interface Goal {
  op: '<=' | '>=' | '<' | '==';
  target: number;
}

export interface TokenRequest {
  role: 'citizen' | 'official' | 'admin' | 'platform-admin';
  sub?: string;
  authority?: string;
  scope?: string;
  ttlSeconds?: number;
}

export interface S3Target {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Only when the bench started the platform itself (not with BENCH_GATEWAY_URL). */
export interface DirectAccess {
  ports: Record<ServiceName, number>;
  /** `http://127.0.0.1:<port>` of a service, to call it with `signedHeaders(…, { keys: identityKeys })`. */
  serviceUrl(service: ServiceName): string;
  /** The identity keys the launcher gave the apps (passed to it as DVD_DEV_IDENTITY_KEYS). */
  identityKeys: DevIdentityKeys;
  s3: S3Target;
  databaseUrl: string;
  amqpUrl: string;
  /** Redis and the run's key prefix (for another replica of an app). */
  redis: { url: string; prefix: string };
  /** The ports of the gateway and realtime the launcher started (for another replica beside them). */
  gatewayPort: number;
  realtimePort: number;
  /** realtime's HTTP/2 port for the gateway's event streams. */
  realtimeStreamPort: number;
  /** The development IdP (issuers `<idpUrl>/citizen`, `<idpUrl>/official`). */
  idpUrl: string;
  /** The environment the launcher got (NODE_OPTIONS included when profiling). */
  env: Record<string, string>;
  /** A second gateway process as the launcher starts it, with `overrides`; stopped with the platform at the latest. */
  spawnGateway(overrides: Record<string, string>): Promise<BenchProcess>;
}

/** The authority the bench registered through the gateway, ready to accept uploads. */
export interface BenchAuthority {
  id: string;
  unitId: string;
  key: TestEncryptionKey;
  platformAdminToken: string;
  adminToken: string;
  officialToken: string;
  /** An accepted (and ROUTED) upload, for read benchmarks. */
  sample: { documentId: string; citizenSub: string; citizenToken: string };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface UploadOutcome {
  status: number;
  /** Request start to the end of the response, in ms. */
  ms: number;
  /** The document id when 201. */
  id?: string;
  error?: string;
}

export interface UploadOptions {
  token: string;
  /** The encrypted payload (a compact JWE), sent as the `encryptedPayload` part. */
  jwe: Buffer;
  referenceNumber?: string;
  documentType?: string;
  /** Defaults to a shared keep-alive agent; pass one with enough sockets for bursts. */
  agent?: Agent;
  timeoutMs?: number;
}

export interface RssFigures {
  baselineMiB: number;
  peakMiB: number;
  growthMiB: number;
}

/** Samples VmRSS of some processes every `intervalMs` until `stop()`. */
export interface RssSampler {
  /** Per process name: the first sample (baseline), the highest sample and their difference. */
  stop(): Record<string, RssFigures>;
  readonly sampleCount: number;
}

export interface BenchContext {
  /** `http://127.0.0.1:<port>` (without /api/v1). */
  gatewayUrl: string;
  /** `${gatewayUrl}/api/v1`. */
  apiUrl: string;
  mode: 'spawned' | 'external';
  /** Service ports, secret, S3 and database; `null` with BENCH_GATEWAY_URL (skip direct measurements then). */
  direct: DirectAccess | null;
  /** BENCH_SCALE (default 1). */
  scale: number;
  /** `max(min, round(n × scale))`: counts scaled for quick runs. */
  scaled(n: number, min?: number): number;
  /** A token from the dev IdP (`POST /token`). */
  token(body: TokenRequest): Promise<string>;
  /** Tokens for many subjects with bounded concurrency. */
  tokens(bodies: TokenRequest[]): Promise<string[]>;
  authority: BenchAuthority;
  /** JSON call through the gateway: `api(token, 'GET', '/documents')`. */
  api<T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Streams one multipart upload through the gateway (node:http, no buffering of the payload). */
  upload(o: UploadOptions): Promise<UploadOutcome>;
  /** A compact JWE for the authority's key whose length is about `bytes`. */
  makeJwe(bytes: number): Promise<Buffer>;
  /** PID of a platform process, or null when unknown (external platform with ambiguous matches). */
  pidOf(app: AppName): number | null;
  /** Starts sampling /proc/<pid>/status VmRSS; names are the keys of `pids`. */
  rssSampler(pids: Record<string, number>, intervalMs?: number): RssSampler;
  /** CPU profiles around phases, with `--profile`; null otherwise. */
  profiler: PhaseProfiler | null;
  /** How often each figure with a goal is measured (its median is the value); 3 unless BENCH_REPS says otherwise. */
  reps: number;
  log(line: string): void;
}

/** Every benchmark: run against the context, return table rows. Throwing marks it failed. */
export type Benchmark = (ctx: BenchContext) => Promise<BenchResult[]>;
