/**
 * `npm run test:images`: starts the platform from the images `npm run images` built
 * (images/images.json), each service and the browser app's server in a container of its
 * own, hardened as in production:
 *
 *   --read-only (no automatic tmpfs)  --tmpfs only for export-worker's EXPORT_TMP_DIR
 *   --user node  --cap-drop=ALL  --security-opt=no-new-privileges  --network=host
 *
 * against this machine's Postgres, RabbitMQ and Redis (a database, vhost and key prefix
 * of its own, free ports) and, on the host, the local S3 store and the development IdP
 * (never in an image). Then, through the containerised gateway only: an authority with a
 * routing rule and a key, an encrypted upload (JWE), routed to the rule's unit, a thread
 * claimed and answered, an export delivered to a receiver on the host and verified
 * (Standard Webhooks signature, package size and sha256, every file's hash, the payload
 * byte for byte). Then the web server in front of that gateway: index.html and its entry
 * script (no source map shipped), /config.json from its environment, the security headers
 * (a CSP without unsafe-inline or unsafe-eval), /health/* only on its own WEB_HEALTH_PORT,
 * and /api/ forwarded to the gateway. And the event stream (realtime, ADR 0021): an official's
 * GET /api/v1/events through the containerised gateway answers text/event-stream.
 *
 * It checks every running container (uid not 0, no capabilities, no_new_privs, writes to
 * /app, / and — except export-worker's tmpfs — /tmp fail with EROFS, no npm) and runs
 * three negative controls that must FAIL: a service writing outside its tmpfs, a service
 * that needs root (port 80), and the checks against a container run as root.
 *
 * Prints each container's start-to-ready time, memory at rest and after the flow, and
 * its stop on SIGTERM. Containers, database, vhost, S3 data and the IdP are removed at
 * the end, also on failure. Exits non-zero on any failure.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { IncomingMessage, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import yauzl from 'yauzl';
import { devIdentityEnv, generateDevIdentityKeys, generateReceiptSigningKey } from '@dvd/platform';
import {
  TEST_REDIS_URL,
  createTestDatabase,
  createTestVhost,
  documentUpload,
  encryptCompact,
  freePort,
  makeEncryptionKey,
  startLocalS3,
  uniqueName,
} from '@dvd/testing';
import { nodeArgsOf } from '../launcher/node-args';
import { printTable } from './build';
import { BuiltImage, IMAGES, ImageName, ImagesManifest, MANIFEST, Podman, ROOT, Service, git, mb } from './podman';

const started = Date.now();
const log = (line: string) => console.log(`[test:images +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const READY_TIMEOUT_MS = 120_000;
/** Where export-worker builds its packages: the one writable path of any service. */
const EXPORT_TMP_DIR = '/tmp';

interface Check {
  what: string;
  ok: boolean;
  evidence: string;
}
interface Running {
  service: ImageName;
  name: string;
  image: BuiltImage;
  port: number;
  readyMs?: number;
  memRest?: string;
  rssRest?: string;
  memAfter?: string;
  rssAfter?: string;
  checks: Check[];
  stopMs?: number;
  exitCode?: string;
}

const failures: string[] = [];
let passed = 0;
/** Counts a check: passed, or a failure with its reason. */
function record(ok: boolean, failure: string): void {
  if (ok) passed++;
  else failures.push(failure);
}
function expectThat(ok: boolean, what: string): void {
  if (!ok) throw new Error(`expected: ${what}`);
}

/** The hardening flags every service container runs with; `tmpfs` only where the service writes. */
export function hardenedRunArgs(o: { name: string; runId: string; service: ImageName; user?: string; extra?: string[] }): string[] {
  return [
    'run',
    '-d',
    '--pull=never',
    '--name',
    o.name,
    '--label',
    `dvd.test-images=${o.runId}`,
    '--network=host',
    '--read-only',
    // podman would otherwise mount a writable tmpfs on /tmp, /var/tmp and /run
    '--read-only-tmpfs=false',
    ...(o.service === 'export-worker' ? ['--tmpfs', `${EXPORT_TMP_DIR}:rw,noexec,nosuid,nodev,size=256m,mode=1777`] : []),
    '--user',
    o.user ?? 'node',
    '--cap-drop=ALL',
    '--security-opt=no-new-privileges',
    // readiness is what this test waits for; podman's healthcheck timers need systemd
    '--no-healthcheck',
    ...(o.extra ?? []),
  ];
}

/** `--env NAME` for each variable: the values go through podman's environment, never its argv. */
function envArgs(env: Record<string, string>): string[] {
  return Object.keys(env).flatMap((k) => ['--env', k]);
}

async function main(): Promise<number> {
  if (!existsSync(MANIFEST)) throw new Error(`${MANIFEST} is missing: run \`npm run images\` first`);
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as ImagesManifest;
  const head = git(['rev-parse', 'HEAD']);
  if (manifest.revision !== head) log(`NOTE: the images are of commit ${manifest.revision.slice(0, 10)}, HEAD is ${head.slice(0, 10)}`);
  const byService = new Map(manifest.images.map((i) => [i.service, i]));
  for (const s of IMAGES) if (!byService.has(s)) throw new Error(`no image for ${s} in ${MANIFEST}: run \`npm run images\``);

  const podman = new Podman();
  const runId = uniqueName('imgtest').replace(/_/g, '-');
  const cleanups: Array<{ what: string; fn: () => Promise<unknown> | unknown }> = [];
  let cleaned = false;
  const removeContainers = async () => {
    const ids = (await podman.cmd(['ps', '-a', '-q', '--filter', `label=dvd.test-images=${runId}`], { check: false })).stdout
      .split('\n')
      .filter(Boolean);
    if (ids.length) await podman.cmd(['rm', '-f', '-t', '2', ...ids], { check: false });
    return ids.length;
  };
  // Containers first (they hold the database's connections), then the rest in reverse
  // order, then containers once more (one may have been started while this ran).
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    let removed = await removeContainers();
    for (const c of cleanups.reverse()) {
      try {
        await c.fn();
      } catch (err) {
        console.error(`cleanup (${c.what}) failed: ${(err as Error).message}`);
      }
    }
    removed += await removeContainers();
    log(`cleaned up: ${removed} container(s), ${cleanups.map((c) => c.what).join(', ')}`);
    podman.dispose();
  };
  // Whatever is being made when a signal comes is undone as soon as it exists.
  let inflight = 0;
  const acquire = async <T>(what: string, create: () => Promise<T>, destroy: (t: T) => unknown): Promise<T> => {
    inflight++;
    try {
      const t = await create();
      if (cleaned) {
        await Promise.resolve(destroy(t)).catch(() => undefined);
        throw new Error('stopping');
      }
      cleanups.push({ what, fn: () => destroy(t) });
      return t;
    } finally {
      inflight--;
    }
  };
  const onSignal = () =>
    void cleanup().then(async () => {
      while (inflight > 0) await new Promise((r) => setTimeout(r, 50));
      await removeContainers();
      process.exit(130);
    });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const notStopping = () => {
    if (cleaned) throw new Error('stopping');
  };

  try {
    // ---- images: labels, user, SBOM ------------------------------------------------------
    for (const s of IMAGES) {
      const img = byService.get(s)!;
      const inspect = await podman.inspectImage(img.tag);
      const user = inspect.Config.User ?? '';
      const idU = (
        await podman.cmd(['run', '--rm', '--pull=never', '--network=none', '--no-healthcheck', '--entrypoint', 'id', img.tag, '-u'])
      ).stdout.trim();
      const labels = inspect.Config.Labels ?? {};
      const inside = join(mkdtempSync(join(tmpdir(), 'dvd-sbom-')), 'sbom.json');
      await podman.copyFromImage(img.tag, '/app/sbom.cdx.json', inside);
      const same = sha256(readFileSync(inside)) === sha256(readFileSync(join(ROOT, img.sbom)));
      rmSync(join(inside, '..'), { recursive: true, force: true });
      const ok =
        user !== '' &&
        user !== 'root' &&
        !/^0(:|$)/.test(user) &&
        idU !== '0' &&
        labels['org.opencontainers.image.revision'] === manifest.revision &&
        same;
      log(
        `${img.tag}: Config.User=${user}, id -u=${idU}, revision label ${labels['org.opencontainers.image.revision']?.slice(0, 10)}, SBOM inside = beside: ${same}`,
      );
      record(ok, `${s}: image checks failed`);
    }

    // ---- the machine's stores, the host's S3 store and IdP -------------------------------
    const [db, vhost] = await Promise.all([
      acquire('database', createTestDatabase, (d) => d.drop()),
      acquire('vhost', createTestVhost, (v) => v.drop()),
    ]);
    const s3Dir = await acquire(
      's3 data',
      async () => mkdtempSync(join(tmpdir(), 'dvd-imgtest-s3-')),
      (d) => rmSync(d, { recursive: true, force: true }),
    );
    const bucket = uniqueName('imgtest').replace(/_/g, '-').toLowerCase();
    const s3 = await acquire(
      's3',
      () => startLocalS3({ directory: s3Dir, buckets: [bucket] }),
      (x) => x.stop(),
    );

    const ports = {} as Record<ImageName | 'dev-idp' | 'web-health' | 'realtime-stream', number>;
    for (const n of [...IMAGES, 'dev-idp', 'web-health', 'realtime-stream'] as const) ports[n] = await freePort();
    const idpBase = `http://127.0.0.1:${ports['dev-idp']}`;
    await acquire('dev IdP', () => startDevIdp(ports['dev-idp'], idpBase), stopChild);
    const receiver = await acquire('receiver', startReceiver, (r) => r.close());
    log(`database ${db.name}, vhost ${vhost.name}, S3 ${s3.endpoint} (bucket ${bucket}), dev IdP ${idpBase}, receiver ${receiver.url}`);

    // ---- the platform, one container per service --------------------------------------------
    const keys = generateDevIdentityKeys(runId);
    const url = (s: ImageName) => `http://127.0.0.1:${ports[s]}`;
    const common: Record<string, string> = {
      LOG_LEVEL: 'info',
      BIND_HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `${runId}:`,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_BUCKET: bucket,
      GATEWAY_PORT: String(ports.gateway),
      INTAKE_PORT: String(ports.intake),
      ROUTING_ENGINE_PORT: String(ports['routing-engine']),
      COMMUNICATION_PORT: String(ports.communication),
      EXPORT_WORKER_PORT: String(ports['export-worker']),
      REALTIME_PORT: String(ports.realtime),
      REALTIME_STREAM_PORT: String(ports['realtime-stream']),
      INTAKE_URL: url('intake'),
      ROUTING_ENGINE_URL: url('routing-engine'),
      COMMUNICATION_URL: url('communication'),
      EXPORT_WORKER_URL: url('export-worker'),
      REALTIME_URL: url('realtime'),
      REALTIME_STREAM_URL: `http://127.0.0.1:${ports['realtime-stream']}`,
      CITIZEN_ISSUER: `${idpBase}/citizen`,
      CITIZEN_JWKS_URI: `${idpBase}/citizen/jwks.json`,
      OFFICIAL_ISSUER: `${idpBase}/official`,
      OFFICIAL_JWKS_URI: `${idpBase}/official/jwks.json`,
      // the dev IdP speaks http on this machine; the gateway runs with NODE_ENV=production
      JWKS_ALLOW_HTTP: 'true',
      RATE_LIMIT_CITIZEN_PER_MIN: '100000',
      RATE_LIMIT_OFFICIAL_PER_MIN: '100000',
      // the first heartbeat soon, so that the stream check below sees more than the opening
      REALTIME_HEARTBEAT_MS: '1000',
      SECRETS_ENCRYPTION_KEYS: `imgtest:${randomBytes(32).toString('base64')}`,
      EXPORT_POLL_MS: '200',
      EXPORT_RETRY_BASE_MS: '200',
      EXPORT_TMP_DIR,
      // intake signs receipts (ADR 0019): a key for this run, and the platform's public URL
      PUBLIC_BASE_URL: url('gateway'),
      RECEIPT_SIGNING_KEYS: JSON.stringify([generateReceiptSigningKey(`imgtest-${runId}`)]),
    };
    // The receiver is on this machine (a private address): routing-engine (which checks an
    // authority's ingest URL) and export-worker (which delivers) allow that only outside
    // production, so these two run with NODE_ENV=development. Everything else is production.
    const perService = (s: Service): Record<string, string> => ({
      ...common,
      ...devIdentityEnv(keys, s),
      ...(s === 'routing-engine' || s === 'export-worker' ? { NODE_ENV: 'development', EXPORT_ALLOW_PRIVATE_TARGETS: 'true' } : {}),
      // gateway and realtime with their Node options (tools/launcher/node-args.ts), as deploy/k8s sets them
      ...(nodeArgsOf(s).length ? { NODE_OPTIONS: ['--enable-source-maps', ...nodeArgsOf(s)].join(' ') } : {}),
    });

    // The browser app's server, in front of the containerised gateway: production settings,
    // its health endpoints on a port of their own, the image's own web root (WEB_ROOT unset).
    const webEnv: Record<string, string> = {
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      SHUTDOWN_GRACE_MS: '10000',
      BIND_HOST: '127.0.0.1',
      WEB_PORT: String(ports['web-server']),
      WEB_HEALTH_PORT: String(ports['web-health']),
      GATEWAY_URL: url('gateway'),
      WEB_API_BASE: '/api/v1',
      AUTH_AUDIENCE: 'dvd-api',
      CITIZEN_ISSUER: common.CITIZEN_ISSUER,
      OFFICIAL_ISSUER: common.OFFICIAL_ISSUER,
      WEB_CLIENT_ID: 'dvd-web-imgtest',
      WEB_HSTS: 'true',
    };
    const readyUrl = (s: ImageName) =>
      s === 'web-server' ? `http://127.0.0.1:${ports['web-health']}/health/ready` : `${url(s)}/health/ready`;

    const running = new Map<ImageName, Running>();
    const start = async (s: ImageName) => {
      const r: Running = { service: s, name: `dvd-${runId}-${s}`, image: byService.get(s)!, port: ports[s], checks: [] };
      running.set(s, r);
      const env = s === 'web-server' ? webEnv : perService(s);
      const t0 = Date.now();
      notStopping();
      await acquire(
        `container ${s}`,
        () => podman.cmd([...hardenedRunArgs({ name: r.name, runId, service: s }), ...envArgs(env), r.image.tag], { env }),
        () => podman.cmd(['rm', '-f', '-t', '2', r.name], { check: false }),
      );
      await waitReady(podman, r.name, readyUrl(s));
      r.readyMs = Date.now() - t0;
      log(`${s}: ready in ${(r.readyMs / 1000).toFixed(1)} s (${r.name})`);
    };
    // as `npm start` does: the five services together, then the gateway
    const loadAtStart = loadavg();
    await Promise.all((['routing-engine', 'intake', 'communication', 'export-worker', 'realtime'] as Service[]).map(start));
    await start('gateway');
    await start('web-server');

    // ---- every running container: hardened as intended -----------------------------------
    for (const r of running.values()) {
      r.checks = await hardeningChecks(podman, r.name, r.service);
      const mem = await memory(podman, r.name);
      r.memRest = mem.cgroup;
      r.rssRest = mem.rss;
      for (const c of r.checks) record(c.ok, `${r.service}: ${c.what} — ${c.evidence}`);
    }
    log(
      `hardening: ${[...running.values()].map((r) => `${r.service} ${r.checks.filter((c) => c.ok).length}/${r.checks.length}`).join(', ')}`,
    );
    printEvidence(...running.values());

    // ---- the document flow, through the containerised gateway -------------------------------
    await documentFlow(url('gateway'), idpBase, receiver);
    record(true, 'the document flow');

    // ---- the event stream: through the containerised gateway to realtime ------------------
    const stream = await eventStreamCheck(url('gateway'), idpBase);
    log(`realtime: ${stream.ok ? 'ok  ' : 'FAIL'} ${stream.what} — ${stream.evidence}`);
    record(stream.ok, `realtime: ${stream.what} — ${stream.evidence}`);

    // ---- the browser app's server: the app, /config.json, its headers, /api/ to the gateway --
    for (const c of await webChecks({
      web: url('web-server'),
      health: `http://127.0.0.1:${ports['web-health']}`,
      gateway: url('gateway'),
      idpBase,
      env: webEnv,
    })) {
      log(`web-server: ${c.ok ? 'ok  ' : 'FAIL'} ${c.what} — ${c.evidence}`);
      record(c.ok, `web-server: ${c.what} — ${c.evidence}`);
    }

    for (const r of running.values()) {
      const mem = await memory(podman, r.name);
      r.memAfter = mem.cgroup;
      r.rssAfter = mem.rss;
    }

    // ---- negative controls: each must fail ----------------------------------------------
    notStopping();
    await negativeControls(podman, runId, byService, perService);

    // ---- graceful stop: SIGTERM, drained, exit 0 ------------------------------------------
    for (const s of ['web-server', 'gateway', 'realtime', 'routing-engine', 'intake', 'communication', 'export-worker'] as ImageName[]) {
      const r = running.get(s)!;
      const t0 = Date.now();
      await podman.cmd(['stop', '-t', '20', r.name], { check: false });
      r.stopMs = Date.now() - t0;
      r.exitCode = (await podman.cmd(['inspect', '--format', '{{.State.ExitCode}}', r.name], { check: false })).stdout.trim();
      record(r.exitCode === '0', `${s}: exit code ${r.exitCode} after SIGTERM (expected a graceful 0)`);
    }

    printTable(
      [
        'service',
        'image',
        'size',
        'start → ready',
        'memory at rest (cgroup / RssAnon)',
        'after the flow (cgroup / RssAnon)',
        'hardening checks',
        'SIGTERM → exit',
      ],
      [...running.values()].map((r) => [
        r.service,
        r.image.tag.replace(/^localhost\//, ''),
        mb(r.image.sizeBytes),
        `${((r.readyMs ?? 0) / 1000).toFixed(1)} s`,
        `${r.memRest} / ${r.rssRest}`,
        `${r.memAfter} / ${r.rssAfter}`,
        `${r.checks.filter((c) => c.ok).length}/${r.checks.length}`,
        `${((r.stopMs ?? 0) / 1000).toFixed(1)} s, code ${r.exitCode}`,
      ]),
    );
    console.log(
      `start times with the five services starting together on ${cpus().length} cores; load average at their start ${loadAtStart.map((l) => l.toFixed(1)).join(' ')} (other work on the machine slows them)`,
    );
  } catch (err) {
    failures.push((err as Error).message);
    await printLogs(podman, runId);
  } finally {
    await cleanup();
  }
  if (failures.length) {
    console.error(`\ntest:images FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    console.log(`test:images: ${passed} passed, ${failures.length} failed`);
    return 1;
  }
  console.log(
    'all seven images, their hardened containers, the document flow, the event stream, the browser app through its server and the three negative controls',
  );
  console.log(`test:images: ${passed} passed, 0 failed`);
  return 0;
}

/** Polls readiness until it answers 200; gives up at once when the container has exited. */
async function waitReady(podman: Podman, name: string, readyUrl: string, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (
      await podman.cmd(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name], { check: false })
    ).stdout.trim();
    if (state.startsWith('exited')) throw new Error(`${name} exited (code ${state.split(' ')[1]}) before it was ready`);
    const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
    if (res?.ok) return;
    if (Date.now() > deadline) throw new Error(`${name} not ready within ${timeoutMs / 1000} s (${state})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls until `check` returns a truthy value; unlike pollUntil an exception ends it at once. */
async function poll<T>(
  check: () => Promise<T | null | undefined | false>,
  o: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${o.what}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 200));
  }
}

/** Runs `podman exec` and returns exit code and output. */
async function exec(podman: Podman, name: string, cmd: string[]): Promise<{ code: number | null; out: string }> {
  const r = await podman.cmd(['exec', name, ...cmd], { check: false });
  return { code: r.code, out: `${r.stdout}${r.stderr}`.trim() };
}

const WRITE = (path: string) => [
  'node',
  '-e',
  `require('fs').writeFileSync(${JSON.stringify(path)}, 'x'); require('fs').rmSync(${JSON.stringify(path)}); console.log('wrote ${path}')`,
];
const errCode = (out: string) => /\b(E[A-Z]{3,})\b/.exec(out)?.[1] ?? (out.split('\n')[0] || '(no output)');

/** What every service container must show; each check carries its evidence. */
export async function hardeningChecks(podman: Podman, name: string, service: ImageName): Promise<Check[]> {
  const checks: Check[] = [];
  const uid = await exec(podman, name, ['id', '-u']);
  checks.push({ what: 'runs as a non-root user', ok: uid.code === 0 && uid.out !== '0', evidence: `id -u → ${uid.out}` });
  const status = await exec(podman, name, ['cat', '/proc/1/status']);
  const field = (k: string) => new RegExp(`^${k}:\\s*(\\S+)`, 'm').exec(status.out)?.[1] ?? '?';
  const caps = ['CapEff', 'CapPrm', 'CapBnd'].map((k) => `${k}=${field(k)}`).join(' ');
  checks.push({ what: 'no capabilities', ok: ['CapEff', 'CapPrm', 'CapBnd'].every((k) => /^0+$/.test(field(k))), evidence: caps });
  checks.push({ what: 'no_new_privs', ok: field('NoNewPrivs') === '1', evidence: `NoNewPrivs=${field('NoNewPrivs')}` });
  const uidOfPid1 = field('Uid');
  checks.push({
    what: 'the service process (PID 1) is not root',
    ok: uidOfPid1 !== '0' && uidOfPid1 !== '?',
    evidence: `PID 1 Uid=${uidOfPid1}`,
  });
  for (const path of ['/app/x', '/x', '/app/node_modules/x']) {
    const w = await exec(podman, name, WRITE(path));
    checks.push({ what: `cannot write ${path}`, ok: w.code !== 0 && /EROFS/.test(w.out), evidence: `exit ${w.code}, ${errCode(w.out)}` });
  }
  const tmp = await exec(podman, name, WRITE(`${EXPORT_TMP_DIR}/probe`));
  if (service === 'export-worker') {
    checks.push({
      what: `writes ${EXPORT_TMP_DIR} (its tmpfs)`,
      ok: tmp.code === 0,
      evidence: `exit ${tmp.code}, ${tmp.out.split('\n')[0]}`,
    });
  } else {
    checks.push({
      what: `cannot write ${EXPORT_TMP_DIR} (no tmpfs)`,
      ok: tmp.code !== 0 && /EROFS/.test(tmp.out),
      evidence: `exit ${tmp.code}, ${errCode(tmp.out)}`,
    });
  }
  const npm = await exec(podman, name, ['sh', '-c', 'command -v npm || echo none']);
  checks.push({ what: 'no npm in the image', ok: npm.out === 'none', evidence: `command -v npm → ${npm.out}` });
  return checks;
}

function printEvidence(...rs: Running[]): void {
  for (const r of rs) {
    console.log(`  ${r.service} (${r.name}):`);
    for (const c of r.checks) console.log(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.what.padEnd(40)} ${c.evidence}`);
  }
}

async function memory(podman: Podman, name: string): Promise<{ cgroup: string; rss: string }> {
  const stats = await podman.cmd(['stats', '--no-stream', '--no-reset', '--format', 'json', name], { check: false });
  let cgroup = '?';
  try {
    cgroup = ((JSON.parse(stats.stdout) as Array<{ mem_usage: string }>)[0]?.mem_usage ?? '?').split(' / ')[0];
  } catch {
    // podman without stats on this cgroup setup
  }
  const status = await exec(podman, name, ['cat', '/proc/1/status']);
  // the process's own memory (heap, stacks): VmRSS would also count the mapped node binary
  const kb = Number(/^RssAnon:\s*(\d+)/m.exec(status.out)?.[1] ?? NaN);
  return { cgroup, rss: Number.isFinite(kb) ? mb(kb * 1024) : '?' };
}

async function printLogs(podman: Podman, runId: string): Promise<void> {
  const names = (
    await podman.cmd(['ps', '-a', '--format', '{{.Names}}', '--filter', `label=dvd.test-images=${runId}`], { check: false })
  ).stdout
    .split('\n')
    .filter(Boolean);
  for (const n of names) {
    const logs = await podman.cmd(['logs', '--tail', '25', n], { check: false });
    console.error(`--- ${n} (last lines) ---\n${`${logs.stdout}${logs.stderr}`.trim()}`);
  }
}

// ---- the dev IdP and the receiver, on the host ---------------------------------------------

async function startDevIdp(port: number, base: string): Promise<ChildProcess> {
  const main = join(ROOT, 'dist', 'apps', 'dev-idp', 'src', 'main.js');
  if (!existsSync(main)) throw new Error('dist/apps/dev-idp is missing: npm run build');
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DEV_IDP_PORT: String(port),
      DEV_IDP_BASE_URL: base,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  await poll(
    async () => {
      if (child.exitCode !== null) throw new Error(`dev IdP exited (${child.exitCode}): ${err}`);
      return (await fetch(`${base}/health/live`).catch(() => null))?.ok;
    },
    { what: 'dev IdP live', timeoutMs: 30_000 },
  );
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
}

async function startReceiver() {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ eAkteId: `EA-${deliveries.length}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    deliveries,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

// ---- the document flow ------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

function client(gateway: string) {
  return async (token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${gateway}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { text: text.slice(0, 200) };
    }
    return { status: res.status, headers: res.headers, body: json };
  };
}

/**
 * An official's event stream through the gateway: 200, text/event-stream, and the stream's
 * opening (`retry:`) and a heartbeat arrive while the connection stays open. Then it is closed.
 */
async function eventStreamCheck(gateway: string, idpBase: string): Promise<Check> {
  const what = 'GET /api/v1/events through the gateway answers text/event-stream and keeps sending';
  const tokenRes = await fetch(`${idpBase}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'official', authority: 'amt-images' }),
  });
  if (!tokenRes.ok) return { what, ok: false, evidence: `dev IdP refused a token: ${tokenRes.status}` };
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  try {
    const res = await fetch(`${gateway}/api/v1/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: abort.signal,
    });
    const type = res.headers.get('content-type') ?? '(none)';
    if (res.status !== 200 || !type.startsWith('text/event-stream') || !res.body) {
      return { what, ok: false, evidence: `${res.status} ${type}: ${(await res.text()).slice(0, 200)}` };
    }
    // the opening, then at least one more chunk (a heartbeat, REALTIME_HEARTBEAT_MS)
    const reader = res.body.getReader();
    let text = '';
    let chunks = 0;
    while (chunks < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks++;
      text += Buffer.from(value).toString('utf8');
    }
    await reader.cancel().catch(() => undefined);
    const ok = chunks >= 2 && /^retry: \d+/m.test(text);
    return {
      what,
      ok,
      evidence: `${res.status} ${type}, ${chunks} chunks, ${text.length} bytes, opening ${JSON.stringify(text.slice(0, 12))}`,
    };
  } catch (e) {
    return { what, ok: false, evidence: (e as Error).name };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

async function documentFlow(gateway: string, idpBase: string, receiver: Awaited<ReturnType<typeof startReceiver>>): Promise<void> {
  const t0 = Date.now();
  const step = (line: string) => log(`flow: ${line}`);
  const token = async (body: Record<string, unknown>) => {
    const res = await fetch(`${idpBase}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`dev IdP refused a token: ${res.status}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const call = client(gateway);
  const authority = 'amt-images';
  const tokens = {
    platformAdmin: await token({ role: 'platform-admin', authority: 'platform' }),
    admin: await token({ role: 'admin', authority }),
    official: await token({ role: 'official', authority }),
    citizen: await token({ role: 'citizen', sub: 'erika' }),
  };
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const created = await call(tokens.platformAdmin, 'POST', '/authorities', {
    id: authority,
    name: 'Amt Images',
    ingestUrl: receiver.url,
    ingestSecret: secret,
    retentionPeriod: 'P30D',
  });
  expectThat(created.status === 201, `authority created (got ${created.status} ${JSON.stringify(created.body).slice(0, 200)})`);
  for (const unit of [
    { id: 'post', name: 'Poststelle' },
    { id: 'bau', name: 'Bauaufsicht' },
  ]) {
    const u = await call(tokens.admin, 'POST', `/authorities/${authority}/units`, unit);
    expectThat(u.status === 201, `unit ${unit.id} created (got ${u.status})`);
  }
  const rule = await call(tokens.admin, 'POST', `/authorities/${authority}/routing-rules`, {
    priority: 1,
    conditions: { referenceNumberPrefix: 'BA-' },
    targetUnitId: 'bau',
  });
  expectThat(rule.status === 201, `routing rule created (got ${rule.status})`);
  const key = await makeEncryptionKey(`${authority}-1`);
  const k = await call(tokens.admin, 'POST', `/authorities/${authority}/keys`, key.publicJwk);
  expectThat(k.status === 201, `key registered (got ${k.status})`);
  step('authority, two units, a routing rule and an encryption key registered through the gateway');

  const jwe = await encryptCompact(key, 1024 * 1024);
  const upload = documentUpload({ referenceNumber: 'BA-2026/4711', authorityId: authority, documentType: 'BAUANTRAG' }, jwe);
  const doc = await poll(
    async () => {
      const r = await call(tokens.citizen, 'POST', '/documents', upload.body, { 'content-type': upload.contentType });
      return r.status === 201 ? r : null;
    },
    { what: 'upload accepted (201)', timeoutMs: 30_000, intervalMs: 250 },
  );
  const documentId = doc.body.id as string;
  step(`uploaded a 1 MiB payload as a compact JWE: 201, document ${documentId}`);

  const routed = await poll(
    async () => {
      const r = await call(tokens.citizen, 'GET', `/documents/${documentId}`);
      return r.body.status === 'ROUTED' ? r : null;
    },
    { what: 'document ROUTED', timeoutMs: 30_000, intervalMs: 200 },
  );
  expectThat(routed.body.unitId === 'bau', `routed to unit bau by the rule (got ${String(routed.body.unitId)})`);
  step('ROUTED to unit "bau" by the routing rule');

  const download = await fetch(`${gateway}/api/v1/documents/${documentId}/payload`, {
    headers: { authorization: `Bearer ${tokens.official}` },
  });
  const downloaded = Buffer.from(await download.arrayBuffer());
  expectThat(download.status === 200 && sha256(downloaded) === sha256(jwe), 'the official downloads the payload byte for byte');
  step(`the official downloads the payload: 200, sha256 ${sha256(downloaded).slice(0, 16)}… = uploaded`);

  const thread = await call(tokens.citizen, 'POST', `/documents/${documentId}/threads`, { type: 'CHAT' });
  expectThat(thread.status === 201, `thread opened (got ${thread.status})`);
  const threadId = thread.body.id as string;
  const m1 = await call(tokens.citizen, 'POST', `/threads/${threadId}/messages`, { contentBlob: await encryptCompact(key, 200) });
  expectThat(m1.status === 201, `citizen's message (got ${m1.status})`);
  const claim = await call(tokens.official, 'POST', `/threads/${threadId}/claim`);
  expectThat(claim.status === 200, `thread claimed (got ${claim.status})`);
  const m2 = await call(tokens.official, 'POST', `/threads/${threadId}/messages`, { contentBlob: await encryptCompact(key, 300) });
  expectThat(m2.status === 201, `official's message (got ${m2.status})`);
  await poll(async () => (await call(tokens.citizen, 'GET', `/documents/${documentId}`)).body.status === 'ASSIGNED', {
    what: 'document ASSIGNED',
    timeoutMs: 30_000,
  });
  step('thread opened, claimed by the official, two messages; document ASSIGNED');

  const requested = await call(tokens.official, 'POST', '/exports', { documentId });
  expectThat(requested.status === 202, `export requested (got ${requested.status})`);
  const job = await poll(
    async () => {
      const r = await call(tokens.official, 'GET', `/exports/${requested.body.jobId as string}`);
      if (r.body.status === 'FAILED') throw new Error(`export FAILED: ${String(r.body.lastError)}`);
      return r.body.status === 'COMPLETED' ? r.body : null;
    },
    { what: 'export COMPLETED', timeoutMs: 60_000, intervalMs: 250 },
  );
  expectThat(receiver.deliveries.length === 1, `one delivery (got ${receiver.deliveries.length})`);
  const d = receiver.deliveries[0];
  const message = new Webhook(secret).verify(d.body, {
    'webhook-id': String(d.headers['webhook-id']),
    'webhook-timestamp': String(d.headers['webhook-timestamp']),
    'webhook-signature': String(d.headers['webhook-signature']),
  }) as { type: string; data: { jobId: string; documentId: string; package: { size: number; sha256: string; base64: string } } };
  expectThat(
    message.type === 'export.package' && message.data.documentId === documentId && message.data.jobId === job.jobId,
    'the delivery is this job’s package',
  );
  const zip = Buffer.from(message.data.package.base64, 'base64');
  expectThat(zip.length === message.data.package.size && sha256(zip) === message.data.package.sha256, 'package size and sha256 as signed');
  const files = await unzip(zip);
  expectThat(files['payload.jwe']?.toString() === jwe, 'payload.jwe is the upload byte for byte');
  const manifest = JSON.parse(files['manifest.json'].toString()) as { files: Record<string, { sha256: string; size: number }> };
  for (const [n, meta] of Object.entries(manifest.files))
    expectThat(sha256(files[n]) === meta.sha256 && files[n].length === meta.size, `manifest hash of ${n}`);
  step(
    `export COMPLETED (attempts ${String(job.attempts)}): delivered to the host receiver, Standard Webhooks signature verified, package ${zip.length} bytes sha256 ${message.data.package.sha256.slice(0, 16)}… matches, ${Object.keys(manifest.files).length} files match the manifest`,
  );
  await poll(async () => (await call(tokens.citizen, 'GET', `/documents/${documentId}`)).body.status === 'EXPORTED', {
    what: 'document EXPORTED',
    timeoutMs: 30_000,
  });
  step(`document EXPORTED; the whole flow took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function unzip(zip: Buffer): Promise<Record<string, Buffer>> {
  return new Promise((resolvePromise, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return reject(err ?? new Error('not a zip'));
      const out: Record<string, Buffer> = {};
      file.on('entry', (entry: yauzl.Entry) => {
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('unreadable entry'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out[entry.fileName] = Buffer.concat(chunks);
            file.readEntry();
          });
        });
      });
      file.on('end', () => resolvePromise(out));
      file.readEntry();
    });
  });
}

// ---- the browser app's server ------------------------------------------------------------------

/**
 * The containerised web server, from outside: the app (index.html and its entry script,
 * without source maps), /config.json from its environment, the security headers on both,
 * /health/* on its own port only, and /api/ forwarded to the containerised gateway (the
 * same answer as the gateway's own, and the gateway's 401 without a token).
 */
export async function webChecks(o: {
  web: string;
  health: string;
  gateway: string;
  idpBase: string;
  env: Record<string, string>;
}): Promise<Check[]> {
  const checks: Check[] = [];
  const check = (what: string, ok: boolean, evidence: string) => checks.push({ what, ok, evidence });
  const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers, signal: AbortSignal.timeout(10_000) });

  const index = await get(`${o.web}/`);
  const html = await index.text();
  const entry = /<script type="module"[^>]*\ssrc="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  check(
    'GET / is the app’s index.html',
    index.status === 200 && /^text\/html/.test(index.headers.get('content-type') ?? '') && entry !== undefined,
    `${index.status} ${index.headers.get('content-type')}, entry script ${entry ?? '(none)'}`,
  );
  const deep = await get(`${o.web}/citizen/documents/0b6f3c52-4a47-4f3e-9a55-1d2b7f1c9e10`);
  check('a deep link of the app is index.html too', deep.status === 200 && (await deep.text()) === html, `${deep.status}`);
  if (entry) {
    const js = await get(`${o.web}${entry}`);
    await js.arrayBuffer();
    check(
      'its entry script is served, cached for good',
      js.status === 200 &&
        /^text\/javascript/.test(js.headers.get('content-type') ?? '') &&
        /immutable/.test(js.headers.get('cache-control') ?? ''),
      `${entry}: ${js.status} ${js.headers.get('content-type')}, ${js.headers.get('cache-control')}`,
    );
    const map = await get(`${o.web}${entry}.map`);
    await map.arrayBuffer();
    check('no source map is shipped', map.status === 404, `${entry}.map: ${map.status}`);
  }

  const config = await get(`${o.web}/config.json`);
  const body = (await config.json().catch(() => null)) as unknown;
  const expected = {
    apiBase: o.env.WEB_API_BASE,
    audience: o.env.AUTH_AUDIENCE,
    issuers: { citizen: o.env.CITIZEN_ISSUER, official: o.env.OFFICIAL_ISSUER },
    clientId: o.env.WEB_CLIENT_ID,
  };
  check(
    '/config.json is built from its environment',
    config.status === 200 && JSON.stringify(body) === JSON.stringify(expected),
    `${config.status} ${JSON.stringify(body)}`,
  );

  for (const [what, res] of [
    ['/', index],
    ['/config.json', config],
  ] as const) {
    const csp = res.headers.get('content-security-policy') ?? '';
    const directive = (name: string) => csp.split(/;\s*/).find((d) => d.startsWith(`${name} `)) ?? '';
    const idpOrigin = new URL(o.env.CITIZEN_ISSUER).origin;
    check(
      `${what}: a strict Content-Security-Policy`,
      directive('script-src') === "script-src 'self'" &&
        directive('style-src') === "style-src 'self'" &&
        directive('frame-ancestors') === "frame-ancestors 'none'" &&
        directive('object-src') === "object-src 'none'" &&
        directive('connect-src').split(' ').includes(idpOrigin) &&
        !/unsafe-inline|unsafe-eval/.test(csp),
      csp || '(none)',
    );
    const h = (n: string) => res.headers.get(n) ?? '(none)';
    check(
      `${what}: the other security headers`,
      h('x-content-type-options') === 'nosniff' &&
        h('referrer-policy') === 'no-referrer' &&
        h('x-frame-options') === 'DENY' &&
        /max-age=\d+/.test(h('strict-transport-security')) &&
        h('x-powered-by') === '(none)',
      `nosniff=${h('x-content-type-options')}, referrer=${h('referrer-policy')}, frame=${h('x-frame-options')}, hsts=${h('strict-transport-security')}, x-powered-by=${h('x-powered-by')}`,
    );
  }

  const ready = await get(`${o.health}/health/ready`);
  const readyBody = await ready.text();
  const publicReady = await get(`${o.web}/health/ready`);
  const publicBody = await publicReady.text();
  check(
    '/health/* answers on WEB_HEALTH_PORT, and the app’s port has none',
    ready.status === 200 && /"web-root"/.test(readyBody) && !/"web-root"/.test(publicBody) && publicBody === html,
    `health port: ${ready.status} ${readyBody}; app port: ${publicReady.status} ${publicReady.headers.get('content-type')}`,
  );

  const anonymous = await get(`${o.web}/api/v1/documents`);
  const problem = (await anonymous.json().catch(() => ({}))) as { status?: number };
  check(
    '/api/ without a token: the gateway’s 401 problem+json',
    anonymous.status === 401 && /problem\+json/.test(anonymous.headers.get('content-type') ?? '') && problem.status === 401,
    `${anonymous.status} ${anonymous.headers.get('content-type')}`,
  );
  const tokenRes = await fetch(`${o.idpBase}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'citizen', sub: 'erika' }),
  });
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
  const auth = { authorization: `Bearer ${token}` };
  const [viaWeb, direct] = await Promise.all([get(`${o.web}/api/v1/documents`, auth), get(`${o.gateway}/api/v1/documents`, auth)]);
  const [webList, gatewayList] = await Promise.all([viaWeb.text(), direct.text()]);
  const items = ((JSON.parse(webList || '{}') as { items?: unknown[] }).items ?? []).length;
  check(
    '/api/ with a token: forwarded to the gateway, the same answer as the gateway’s',
    viaWeb.status === 200 && direct.status === 200 && webList === gatewayList && items > 0,
    `via web-server ${viaWeb.status}, direct ${direct.status}, ${items} document(s), bodies ${webList === gatewayList ? 'equal' : 'DIFFER'}`,
  );
  return checks;
}

// ---- negative controls ----------------------------------------------------------------------

/**
 * Three services that break the rules; the test must catch each one. If any of them
 * passed, the checks above would prove nothing, so that is a failure too.
 */
async function negativeControls(
  podman: Podman,
  runId: string,
  images: Map<ImageName, BuiltImage>,
  perService: (s: Service) => Record<string, string>,
): Promise<void> {
  // 1. A service that writes outside its tmpfs: intake's image, the same flags, a start
  //    that first writes a state file to /app. It must die with EROFS and never be ready.
  {
    const name = `dvd-${runId}-neg-write`;
    const port = await freePort();
    const env = { ...perService('intake'), INTAKE_PORT: String(port) };
    const entry = `require('fs').writeFileSync('/app/state.json', '{}'); require('./dist/apps/intake/src/main.js')`;
    await podman.cmd(
      [
        ...hardenedRunArgs({ name, runId, service: 'intake', extra: ['--entrypoint', 'node'] }),
        ...envArgs(env),
        images.get('intake')!.tag,
        '-e',
        entry,
      ],
      { env },
    );
    const outcome = await waitReady(podman, name, `http://127.0.0.1:${port}/health/ready`, 30_000).then(
      () => 'READY',
      (e: unknown) => (e as Error).message,
    );
    const logs = await podman.cmd(['logs', name], { check: false });
    const erofs = /EROFS: read-only file system, open '\/app\/state.json'/.test(`${logs.stdout}${logs.stderr}`);
    const caught = outcome !== 'READY' && erofs;
    log(
      `negative control 1 (writes /app at start): ${caught ? 'caught' : 'NOT CAUGHT'} — ${outcome}; log: ${erofs ? "EROFS: read-only file system, open '/app/state.json'" : '(no EROFS)'}`,
    );
    record(caught, 'negative control 1: a service writing to /app was not caught');
  }
  // 2. A service that needs root: intake on port 80 (binding below 1024 needs
  //    CAP_NET_BIND_SERVICE, which --cap-drop=ALL and --user node take away).
  {
    const name = `dvd-${runId}-neg-root`;
    const env = { ...perService('intake'), INTAKE_PORT: '80' };
    await podman.cmd([...hardenedRunArgs({ name, runId, service: 'intake' }), ...envArgs(env), images.get('intake')!.tag], { env });
    const outcome = await waitReady(podman, name, 'http://127.0.0.1:80/health/ready', 60_000).then(
      () => 'READY',
      (e: unknown) => (e as Error).message,
    );
    const logs = await podman.cmd(['logs', name], { check: false });
    const eacces = /EACCES|permission denied/i.test(`${logs.stdout}${logs.stderr}`);
    const caught = outcome !== 'READY' && eacces;
    log(
      `negative control 2 (needs root: listens on port 80): ${caught ? 'caught' : 'NOT CAUGHT'} — ${outcome}; log: ${eacces ? 'EACCES on listen' : '(no EACCES)'}`,
    );
    record(caught, 'negative control 2: a service that needs root was not caught');
  }
  // 3. The per-container checks against a container run as root with the default
  //    capabilities: they must report failures (uid 0, capabilities).
  {
    const name = `dvd-${runId}-neg-asroot`;
    const args = hardenedRunArgs({ name, runId, service: 'communication', user: '0' }).filter((a) => a !== '--cap-drop=ALL');
    await podman.cmd([...args, '--entrypoint', 'node', images.get('communication')!.tag, '-e', 'setInterval(() => {}, 1000)']);
    const checks = await hardeningChecks(podman, name, 'communication');
    const flagged = checks.filter((c) => !c.ok);
    const caught = flagged.some((c) => c.what === 'runs as a non-root user') && flagged.some((c) => c.what === 'no capabilities');
    log(
      `negative control 3 (the checks against a container run as root): ${caught ? 'caught' : 'NOT CAUGHT'} — ${flagged.map((c) => `${c.what}: ${c.evidence}`).join('; ')}`,
    );
    record(caught, 'negative control 3: the checks did not flag a container run as root');
    await podman.cmd(['rm', '-f', '-t', '0', name], { check: false });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`test:images: ${(err as Error)?.message ?? String(err)}`);
      process.exit(1);
    },
  );
}
