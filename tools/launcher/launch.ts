/**
 * `npm start`: the whole platform on one machine, from the compiled apps. Starts the
 * local S3 store (unless S3_ENDPOINT is set), the development IdP (unless both JWKS URIs
 * are set), makes a receipt signing key (unless one is configured), the five services
 * (each migrates its schema at start; realtime, which keeps none, reads the recent events), the gateway and the browser app's server (when
 * dist/web is built); waits until every one is ready; prints where the gateway and the web
 * app listen and how to get a token.
 * A service that dies is restarted with exponential backoff while the others keep
 * running (ADR 0013). Ctrl-C or SIGTERM stops everything gracefully (each app drains its
 * in-flight requests first), leaving no process behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DevIdentityKeys, devIdentityEnv, generateDevIdentityKeys, generateReceiptSigningKey } from '@dvd/platform';
import { LOCAL_S3_KEYS } from '@dvd/testing';
import { nodeArgsOf } from './node-args';
import { Supervisor } from './supervisor';

const env: Record<string, string | undefined> = { ...process.env };
// Identity keys, new per start (ADR 0014): the gateway's private key goes to the gateway
// only, each calling service gets its own, every service the public set. A harness that
// signs requests itself passes its whole set as DVD_DEV_IDENTITY_KEYS.
const identityKeys: DevIdentityKeys = env.DVD_DEV_IDENTITY_KEYS
  ? (JSON.parse(env.DVD_DEV_IDENTITY_KEYS) as DevIdentityKeys)
  : generateDevIdentityKeys();
for (const v of ['DVD_DEV_IDENTITY_KEYS', 'IDENTITY_SIGNING_KEY', 'SERVICE_SIGNING_KEY', 'IDENTITY_VERIFY_KEYS', 'IDENTITY_HMAC_KEYS'])
  delete env[v];
const root = resolve(__dirname, '..', '..', '..');
const dataDir = resolve(root, env.DVD_DATA_DIR ?? '.data');
const host = '127.0.0.1';

const ports = {
  gateway: Number(env.GATEWAY_PORT ?? 3000),
  intake: Number(env.INTAKE_PORT ?? 3001),
  'routing-engine': Number(env.ROUTING_ENGINE_PORT ?? 3002),
  communication: Number(env.COMMUNICATION_PORT ?? 3003),
  'export-worker': Number(env.EXPORT_WORKER_PORT ?? 3004),
  realtime: Number(env.REALTIME_PORT ?? 3005),
  'dev-idp': Number(env.DEV_IDP_PORT ?? 3100),
  'web-server': Number(env.WEB_PORT ?? 3200),
};
type App = keyof typeof ports;
/** realtime's second port, for the gateway only: the event streams over HTTP/2 (ADR 0021). */
const realtimeStreamPort = Number(env.REALTIME_STREAM_PORT ?? 3015);

let stopping = false;

function say(line: string) {
  process.stdout.write(`[dvd] ${line}\n`);
}

// each app drains for up to SHUTDOWN_GRACE_MS on SIGTERM; after that and a margin it is killed
const graceMs = Number(env.SHUTDOWN_GRACE_MS ?? 10_000);
const supervisor = new Supervisor({
  initialBackoffMs: 500,
  maxBackoffMs: 30_000,
  resetAfterMs: 60_000,
  stopTimeoutMs: (Number.isFinite(graceMs) ? graceMs : 10_000) + 5_000,
  log: say,
});

// the local S3 store runs in a process of its own (restarted like an app) and stops after the apps
const storeSupervisor = new Supervisor({
  initialBackoffMs: 500,
  maxBackoffMs: 30_000,
  resetAfterMs: 60_000,
  stopTimeoutMs: 5_000,
  log: say,
});

async function startLocalStore(directory: string, port: number, bucket: string): Promise<string> {
  storeSupervisor.start({
    name: 'local-s3',
    command: process.execPath,
    args: [resolve(__dirname, 'local-s3-server.js'), directory, String(port), bucket],
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const endpoint = `http://${host}:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (stopping) throw new Error('stopping');
    // any answer (403 without credentials) means it listens
    if (
      await fetch(endpoint, { signal: AbortSignal.timeout(2_000) }).then(
        () => true,
        () => false,
      )
    )
      return endpoint;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the local S3 store did not start within 30 s');
}

function startApp(app: App, extra: Record<string, string>): void {
  supervisor.start({
    name: app,
    command: process.execPath,
    args: [...nodeArgsOf(app), resolve(root, 'dist', 'apps', app, 'src', 'main.js')],
    // the IdP and the web server sign nothing and call no service: no identity keys
    env: { ...env, ...extra, ...(app === 'dev-idp' || app === 'web-server' ? {} : devIdentityEnv(identityKeys, app)) } as NodeJS.ProcessEnv,
  });
}

async function waitReady(app: App, timeoutMs = 120_000): Promise<void> {
  const url = `http://${host}:${ports[app]}/health/${app === 'dev-idp' ? 'live' : 'ready'}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) throw new Error('stopping');
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${app} did not become ready within ${timeoutMs / 1000}s`);
}

/**
 * Receipt signing keys (ADR 0019): the configured ones, or a development key kept in the data
 * folder (made on the first start, mode 0600), so that receipts issued before a restart still
 * verify against the JWKS after it.
 */
function receiptKeyEnv(): Record<string, string> {
  if (env.RECEIPT_SIGNING_KEYS || env.RECEIPT_SIGNING_KEY_FILE) return {};
  const file = resolve(dataDir, 'receipt-signing-keys.json');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const key = generateReceiptSigningKey(`dev-receipts-${Date.now().toString(36)}`);
    writeFileSync(file, `${JSON.stringify([key])}\n`, { mode: 0o600, flag: 'wx' });
    say(`development receipt signing key written to ${file}`);
  }
  return { RECEIPT_SIGNING_KEY_FILE: file };
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping: every app drains its in-flight requests');
  await supervisor.stopAll();
  await storeSupervisor.stopAll();
  say('stopped');
  process.exit(code);
}

async function main() {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  const shared: Record<string, string> = {
    INTAKE_URL: env.INTAKE_URL ?? `http://${host}:${ports.intake}`,
    ROUTING_ENGINE_URL: env.ROUTING_ENGINE_URL ?? `http://${host}:${ports['routing-engine']}`,
    COMMUNICATION_URL: env.COMMUNICATION_URL ?? `http://${host}:${ports.communication}`,
    EXPORT_WORKER_URL: env.EXPORT_WORKER_URL ?? `http://${host}:${ports['export-worker']}`,
    REALTIME_URL: env.REALTIME_URL ?? `http://${host}:${ports.realtime}`,
    // realtime's HTTP/2 port for the gateway's event streams (ADR 0021)
    REALTIME_STREAM_PORT: String(realtimeStreamPort),
    REALTIME_STREAM_URL: env.REALTIME_STREAM_URL ?? `http://${host}:${realtimeStreamPort}`,
    // Seals authorities' ingest secrets (routing-engine) and opens them (export-worker); random per start unless configured.
    SECRETS_ENCRYPTION_KEYS: env.SECRETS_ENCRYPTION_KEYS || `dev:${randomBytes(32).toString('base64')}`,
    // Development: exports may go to a receiver on this machine over plain http.
    EXPORT_ALLOW_PRIVATE_TARGETS: env.EXPORT_ALLOW_PRIVATE_TARGETS || 'true',
    // The `iss` of signed receipts: the gateway, as clients reach it.
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL || `http://${host}:${ports.gateway}`,
    ...receiptKeyEnv(),
  };

  if (!env.S3_ENDPOINT) {
    const bucket = env.S3_BUCKET ?? 'dvd-documents';
    shared.S3_ENDPOINT = await startLocalStore(resolve(dataDir, 's3'), Number(env.LOCAL_S3_PORT ?? 4568), bucket);
    say(
      `local S3 store on ${shared.S3_ENDPOINT} (bucket ${bucket}, data in ${resolve(dataDir, 's3')}, pid ${storeSupervisor.pid('local-s3')})`,
    );
    // the local store's keys, explicitly: without keys the services use the AWS default credential chain
    Object.assign(shared, LOCAL_S3_KEYS);
  }

  const useDevIdp = !env.CITIZEN_JWKS_URI || !env.OFFICIAL_JWKS_URI;
  const webPort = ports['web-server'];
  if (useDevIdp) {
    const base = `http://${host}:${ports['dev-idp']}`;
    Object.assign(shared, {
      CITIZEN_ISSUER: `${base}/citizen`,
      CITIZEN_JWKS_URI: `${base}/citizen/jwks.json`,
      OFFICIAL_ISSUER: `${base}/official`,
      OFFICIAL_JWKS_URI: `${base}/official/jwks.json`,
    });
    startApp('dev-idp', {
      ...shared,
      DEV_IDP_DATA_DIR: resolve(dataDir, 'dev-idp'),
      DEV_IDP_BASE_URL: base,
      // the browser app logs in here (authorization code + PKCE): its redirect URIs on both host names
      DEV_IDP_WEB_REDIRECT_URIS: env.DEV_IDP_WEB_REDIRECT_URIS ?? `http://${host}:${webPort}/callback,http://localhost:${webPort}/callback`,
    });
    await waitReady('dev-idp');
    say(`development IdP on ${base} (OpenID issuers ${base}/citizen and ${base}/official, browser client dvd-web)`);
  }

  // DVD_SKIP_APPS=export-worker,… starts the rest only (tests that run an app themselves)
  const skipped = new Set((env.DVD_SKIP_APPS ?? '').split(',').map((a) => a.trim()));
  const services = (['routing-engine', 'intake', 'communication', 'export-worker', 'realtime'] as App[]).filter((a) => !skipped.has(a));
  for (const app of services) startApp(app, shared);
  await Promise.all(services.map((app) => waitReady(app)));
  startApp('gateway', shared);
  await waitReady('gateway');
  const gateway = `http://${host}:${ports.gateway}`;

  // the browser app's server (apps/web-server), in front of the gateway on its own origin
  const webBuilt = existsSync(resolve(root, 'dist', 'web', 'index.html'));
  const startWeb = webBuilt && !skipped.has('web-server');
  if (startWeb) {
    startApp('web-server', {
      ...shared,
      WEB_PORT: String(webPort),
      BIND_HOST: host,
      GATEWAY_URL: gateway,
      WEB_ROOT: resolve(root, 'dist', 'web'),
      CITIZEN_ISSUER: shared.CITIZEN_ISSUER ?? env.CITIZEN_ISSUER ?? '',
      OFFICIAL_ISSUER: shared.OFFICIAL_ISSUER ?? env.OFFICIAL_ISSUER ?? '',
    });
    await waitReady('web-server');
  }

  const howToToken = useDevIdp
    ? 'get a token: npm run -s token -- citizen   |   npm run -s token -- official --authority a1   |   --scope "dvd:admin"'
    : 'tokens come from the configured IdPs (CITIZEN_JWKS_URI / OFFICIAL_JWKS_URI)';
  const web = startWeb
    ? `web app: http://${host}:${webPort} (${useDevIdp ? 'log in through the development IdP' : 'log in through the configured IdPs'})`
    : `web app: not started (${webBuilt ? 'DVD_SKIP_APPS' : 'dist/web is missing: npm run build:web'})`;
  // one write, so that whoever waits for "ready" also sees how to get a token
  process.stdout.write(
    [`ready: gateway on ${gateway}/api/v1 (OpenAPI: ${gateway}/api/docs)`, web, howToToken, 'press Ctrl-C to stop']
      .map((l) => `[dvd] ${l}\n`)
      .join(''),
  );
}

main().catch((err: unknown) => {
  say(`start failed: ${(err as Error)?.message ?? String(err)}`);
  void shutdown(1);
});
