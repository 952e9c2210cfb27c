/**
 * Podman for `npm run images` and `npm run test:images`: every call goes through
 * child_process with an argument array (never a shell string), with the settings this
 * kind of machine needs and that do no harm elsewhere:
 *
 * - the `runc` runtime where it is installed (crun refuses a hybrid cgroup layout);
 * - a containers.conf of our own with `default_ulimits = []` (a sandbox that forbids
 *   setrlimit), unless the caller set CONTAINERS_CONF to a file of theirs;
 * - `--network=host` for builds (npm ci reaches the registry) and containers (they
 *   reach the machine's Postgres, RabbitMQ, Redis and the host's S3 store and IdP).
 */
import { SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The repository: from dist/tools/images (compiled) or tools/images (tests) upwards. */
export const ROOT = ((): string => {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'deploy', 'Dockerfile'))) return d;
    if (dirname(d) === d) return resolve(__dirname, '..', '..', '..');
  }
})();
export const SERVICES = ['gateway', 'intake', 'routing-engine', 'communication', 'export-worker', 'realtime'] as const;
export type Service = (typeof SERVICES)[number];
/** Every image `npm run images` builds: the six services and the browser app's server. */
export const IMAGES = [...SERVICES, 'web-server'] as const;
export type ImageName = (typeof IMAGES)[number];

/** The Dockerfile stage an image is, and its build arguments: `runtime` with APP, or `web-server`. */
export function buildTarget(name: ImageName): string[] {
  return name === 'web-server' ? ['--target', 'web-server'] : ['--target', 'runtime', '--build-arg', `APP=${name}`];
}

/** What `npm run images` built, for `npm run test:images` (images/images.json). */
export interface BuiltImage {
  /** a service, or web-server */
  service: ImageName;
  /** dvd/<service>:<version>-<sha>, the immutable tag */
  tag: string;
  latest: string;
  id: string;
  sizeBytes: number;
  baseLayerBytes: number;
  sbom: string;
  sbomComponents: number;
}
export interface ImagesManifest {
  version: string;
  revision: string;
  nodeImage: string;
  localBase: boolean;
  images: BuiltImage[];
}
/** Outside dist/ (which every build removes): the SBOMs, images.json and the build log. */
export const IMAGES_DIR = join(ROOT, 'images');
export const MANIFEST = join(IMAGES_DIR, 'images.json');

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${command} exited with ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : ''}`);
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell) and collects its output; rejects only if it cannot start. */
export function run(
  program: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string; onLine?: (line: string) => void } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, { env: o.env ?? process.env, cwd: o.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] } as SpawnOptions);
    let stdout = '';
    let stderr = '';
    let partial = '';
    const onData = (c: Buffer, which: 'out' | 'err') => {
      const s = c.toString();
      if (which === 'out') stdout += s;
      else stderr += s;
      if (o.onLine) {
        partial += s;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) o.onLine(l);
      }
    };
    child.stdout!.on('data', (c: Buffer) => onData(c, 'out'));
    child.stderr!.on('data', (c: Buffer) => onData(c, 'err'));
    const timer = o.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), o.timeoutMs) : undefined;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (o.onLine && partial) o.onLine(partial);
      resolvePromise({ code, stdout, stderr });
    });
    // a program that exits without reading its input (podman refusing a container at once)
    // closes the pipe: EPIPE on it is no failure of ours, the exit code says what happened
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(o.input ?? '');
  });
}

export function which(program: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { stdio: 'ignore' }).status === 0;
}

export class Podman {
  private confDir?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly globalArgs: string[];

  constructor() {
    const env = { ...process.env };
    if (!env.CONTAINERS_CONF) {
      this.confDir = mkdtempSync(join(tmpdir(), 'dvd-podman-'));
      const conf = join(this.confDir, 'containers.conf');
      writeFileSync(conf, '# written by tools/images (npm run images / test:images)\n[containers]\ndefault_ulimits = []\n');
      env.CONTAINERS_CONF = conf;
    }
    this.env = env;
    this.globalArgs = which('runc') ? ['--runtime', 'runc'] : [];
  }

  /** Runs `podman <args>`; with `check` (default) a non-zero exit rejects with the output. */
  async cmd(
    args: string[],
    o: { check?: boolean; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; onLine?: (line: string) => void } = {},
  ): Promise<RunResult> {
    const res = await run('podman', [...this.globalArgs, ...args], { ...o, env: { ...this.env, ...(o.env ?? {}) } });
    if ((o.check ?? true) && res.code !== 0)
      throw new CommandError(`podman ${args.slice(0, 2).join(' ')}`, res.code, res.stdout, res.stderr);
    return res;
  }

  async imageExists(ref: string): Promise<boolean> {
    return (await this.cmd(['image', 'exists', ref], { check: false })).code === 0;
  }

  async inspectImage(ref: string): Promise<ImageInspect> {
    const res = await this.cmd(['image', 'inspect', ref]);
    return (JSON.parse(res.stdout) as ImageInspect[])[0];
  }

  /** Copies one file out of an image without running anything in it. */
  async copyFromImage(ref: string, path: string, dest: string): Promise<void> {
    const id = (await this.cmd(['create', '--pull=never', ref])).stdout.trim();
    try {
      await this.cmd(['cp', `${id}:${path}`, dest]);
    } finally {
      await this.cmd(['rm', '-f', id], { check: false });
    }
  }

  dispose(): void {
    if (this.confDir) rmSync(this.confDir, { recursive: true, force: true });
  }
}

export interface ImageInspect {
  Id: string;
  Size: number;
  RepoTags: string[];
  Config: { User?: string; Labels?: Record<string, string>; Env?: string[]; Entrypoint?: string[]; Healthcheck?: unknown };
  Labels?: Record<string, string>;
}

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function git(args: string[]): string {
  const res = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout.trim();
}
