import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DevIdentityKeys, generateDevIdentityKeys } from '@dvd/platform';
import {
  LOCAL_S3_KEYS,
  LauncherPorts,
  OpenApiResponseValidator,
  ResponseRecorder,
  createTestDatabase,
  createTestVhost,
  freeLauncherPorts,
  uniqueName,
} from '@dvd/testing';

export const ROOT = resolve(__dirname, '..', '..', '..');
const LAUNCHER = join(ROOT, 'dist', 'tools', 'launcher', 'launch.js');

export interface RunningPlatform {
  gateway: string;
  ports: LauncherPorts;
  output: () => string;
  child: ChildProcess;
  env: Record<string, string>;
  /** The identity keys the platform runs with: sign direct calls to a service, or start another replica. */
  identityKeys: DevIdentityKeys;
  token: (body: Record<string, unknown>) => Promise<string>;
  stop: () => Promise<number | null>;
}

/**
 * Starts the platform exactly as `npm start` does (the compiled launcher), isolated on
 * its own database, RabbitMQ vhost, S3 data folder, bucket and ports.
 */
export async function startPlatform(extraEnv: Record<string, string> = {}): Promise<RunningPlatform> {
  if (!existsSync(LAUNCHER)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const [db, vhost, dataDir] = await Promise.all([createTestDatabase(), createTestVhost(), mkdtemp(join(tmpdir(), 'dvd-e2e-'))]);
  const ports = await freeLauncherPorts();
  const identityKeys = generateDevIdentityKeys(uniqueName('e2e'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    DVD_DATA_DIR: dataDir,
    S3_BUCKET: uniqueName('e2e').replace(/_/g, '-'),
    LOG_LEVEL: 'info',
    // rate limits are tested on their own; here they would only get in the way
    RATE_LIMIT_CITIZEN_PER_MIN: '100000',
    RATE_LIMIT_OFFICIAL_PER_MIN: '100000',
    REDIS_KEY_PREFIX: `${uniqueName('e2e')}:`,
    GATEWAY_PORT: String(ports.gateway),
    INTAKE_PORT: String(ports.intake),
    ROUTING_ENGINE_PORT: String(ports['routing-engine']),
    COMMUNICATION_PORT: String(ports.communication),
    EXPORT_WORKER_PORT: String(ports['export-worker']),
    REALTIME_PORT: String(ports.realtime),
    REALTIME_STREAM_PORT: String(ports['realtime-stream']),
    DEV_IDP_PORT: String(ports['dev-idp']),
    LOCAL_S3_PORT: String(ports.s3),
    // the launcher's local store; passed on to the processes a spec starts beside it
    ...LOCAL_S3_KEYS,
    WEB_PORT: String(ports.web),
    DVD_DEV_IDENTITY_KEYS: JSON.stringify(identityKeys),
    ...extraEnv,
  };
  const child = spawn(process.execPath, [LAUNCHER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`platform not ready in 120 s:\n${out.slice(-4000)}`)), 120_000);
    const check = () => {
      if (out.includes('[dvd] ready')) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`launcher exited (${code}) before ready:\n${out.slice(-4000)}`));
    });
  });

  const idp = `http://127.0.0.1:${ports['dev-idp']}`;
  return {
    gateway: `http://127.0.0.1:${ports.gateway}`,
    ports,
    output: () => out,
    child,
    env,
    identityKeys,
    token: async (body) => {
      const res = await fetch(`${idp}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`dev IdP refused: ${res.status}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      await Promise.all([db.drop(), vhost.drop(), rm(dataDir, { recursive: true, force: true })]);
      return code;
    },
  };
}

export interface GatewayResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/**
 * JSON (or raw Buffer) calls through the gateway, as a client app makes them. With a
 * recorder, every response is recorded for a check against the OpenAPI document.
 */
export function gatewayClient(gateway: string, recorder?: ResponseRecorder) {
  return async (
    token: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<GatewayResponse> => {
    const res = await fetch(`${gateway}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = {};
    let parsed = false;
    try {
      json = text ? JSON.parse(text) : {};
      parsed = text !== '';
    } catch {
      json = { text };
    }
    recorder?.record({
      method,
      path: `/api/v1${path}`,
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: text === '' ? undefined : parsed ? json : text,
    });
    return { status: res.status, headers: res.headers, body: json as Record<string, unknown> };
  };
}

/**
 * Checks every response a recorder holds against the committed OpenAPI document
 * (`docs/openapi.json`): no violation, at least `minOperations` distinct operations seen, and
 * error responses (problem+json) among them.
 */
export function expectResponsesMatchOpenApi(recorder: ResponseRecorder, minOperations: number): string[] {
  const { violations, operations } = recorder.checkAll(OpenApiResponseValidator.fromFile(join(ROOT, 'docs', 'openapi.json')));
  expect(violations).toEqual([]);
  expect(operations.length).toBeGreaterThanOrEqual(minOperations);
  expect(recorder.responses.filter((r) => r.status >= 400).length).toBeGreaterThan(0);
  return operations;
}
