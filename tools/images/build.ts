/**
 * `npm run images`: builds the six service images and the web server's (dvd/web-server,
 * the browser app) from deploy/Dockerfile with podman,
 * tags each `dvd/<service>:<version>-<commit>` and `dvd/<service>:latest`, labels it
 * (org.opencontainers.image.*), checks it (non-root user, labels, no npm), copies its
 * CycloneDX SBOM out beside it (images/<service>.cdx.json, the same file as
 * /app/sbom.cdx.json inside) and prints each image's size. images/images.json lists
 * what was built, for `npm run test:images`.
 *
 * The base is the Dockerfile's NODE_IMAGE (node:24-bookworm-slim pinned by digest).
 * Where no registry answers, a local stand-in is made once and used instead
 * (tools/images/local-base.ts):
 *
 *   DVD_IMAGES_LOCAL_BASE=1   always use the local base        =0  never (fail if the pull fails)
 *   NODE_IMAGE=<ref>          another base (e.g. a mirror in your registry)
 *   DVD_IMAGES_ONLY=intake,web-server   build only these
 *   DVD_IMAGE_SOURCE=<url>    org.opencontainers.image.source (default: git remote origin)
 *   DVD_BUILD_CA_FILE=<pem>   CA bundle npm trusts inside the build (default: NODE_EXTRA_CA_CERTS,
 *                             npm's cafile, SSL_CERT_FILE)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { ensureLocalBase } from './local-base';
import { BuiltImage, IMAGES, IMAGES_DIR, ImageName, ImagesManifest, MANIFEST, Podman, ROOT, buildTarget, git, mb } from './podman';

const started = Date.now();
const log = (line: string) => console.log(`[images +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
const SIZE_GOAL_BYTES = 200e6;
const REQUIRED_LABELS = ['title', 'version', 'revision', 'created', 'source'].map((l) => `org.opencontainers.image.${l}`);

/** The default NODE_IMAGE of deploy/Dockerfile (its `ARG NODE_IMAGE=` line). */
export function dockerfileNodeImage(dockerfile: string): string {
  const m = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile);
  if (!m) throw new Error('deploy/Dockerfile has no `ARG NODE_IMAGE=` default');
  return m[1];
}

function selected(): ImageName[] {
  const only = (process.env.DVD_IMAGES_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of only) if (!(IMAGES as readonly string[]).includes(s)) throw new Error(`DVD_IMAGES_ONLY: unknown image ${s}`);
  return only.length ? (only as ImageName[]) : [...IMAGES];
}

async function chooseBase(podman: Podman): Promise<{ nodeImage: string; local: boolean }> {
  const wanted = process.env.NODE_IMAGE || dockerfileNodeImage(readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8'));
  const mode = process.env.DVD_IMAGES_LOCAL_BASE;
  if (mode === '1') return { nodeImage: await ensureLocalBase(podman, log), local: true };
  if (await podman.imageExists(wanted)) return { nodeImage: wanted, local: false };
  log(`pulling ${wanted}`);
  const pull = await podman.cmd(['pull', wanted], { check: false, timeoutMs: 300_000 });
  if (pull.code === 0) return { nodeImage: wanted, local: false };
  const why = pull.stderr.trim().split('\n').pop() ?? '';
  if (mode === '0') throw new Error(`cannot pull ${wanted} and DVD_IMAGES_LOCAL_BASE=0: ${why}`);
  log(`no registry reachable (${why.slice(0, 160)})`);
  log('NOTE: building on the LOCAL stand-in base (Debian 12 minbase + Node 24), not on the pinned node:24-bookworm-slim');
  return { nodeImage: await ensureLocalBase(podman, log), local: true };
}

/** The CA bundle npm on this machine trusts, for npm inside the build (a TLS-inspecting proxy). */
function caFile(): string | undefined {
  const e = process.env;
  return [e.DVD_BUILD_CA_FILE, e.NODE_EXTRA_CA_CERTS, e.npm_config_cafile, e.SSL_CERT_FILE].find((f) => f && existsSync(f));
}

function sourceUrl(): string {
  if (process.env.DVD_IMAGE_SOURCE) return process.env.DVD_IMAGE_SOURCE;
  try {
    return git(['remote', 'get-url', 'origin']);
  } catch {
    return `file://${ROOT}`;
  }
}

async function main(): Promise<void> {
  const podman = new Podman();
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const dirty = git(['status', '--porcelain']) !== '';
    const revision = git(['rev-parse', 'HEAD']);
    const short = git(['rev-parse', '--short=10', 'HEAD']) + (dirty ? '-dirty' : '');
    const version = pkg.version;
    const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const services = selected();
    log(`podman ${(await podman.cmd(['--version'])).stdout.trim().replace(/^podman version /, '')}; version ${version}, commit ${short}`);
    if (dirty) log('the work tree has uncommitted changes: tags end in -dirty');

    const { nodeImage, local } = await chooseBase(podman);
    mkdirSync(IMAGES_DIR, { recursive: true });
    const logFile = join(IMAGES_DIR, 'build.log');
    const buildLog = createWriteStream(logFile);
    const ca = caFile();
    const source = sourceUrl();
    const built: BuiltImage[] = [];

    for (const service of services) {
      const tag = `dvd/${service}:${version}-${short}`;
      const latest = `dvd/${service}:latest`;
      const t0 = Date.now();
      const labels: Record<string, string> = {
        'org.opencontainers.image.title': `dvd-${service}`,
        'org.opencontainers.image.version': version,
        'org.opencontainers.image.revision': revision,
        'org.opencontainers.image.created': created,
        'org.opencontainers.image.source': source,
        'org.opencontainers.image.base.name': nodeImage,
      };
      const args = [
        'build',
        '--layers',
        '--pull=never',
        '--network=host',
        // docker manifest format: keeps the Dockerfile's HEALTHCHECK (OCI has no field for it)
        '--format',
        'docker',
        '-f',
        'deploy/Dockerfile',
        '--build-arg',
        `NODE_IMAGE=${nodeImage}`,
        ...buildTarget(service),
        '--build-arg',
        `VERSION=${version}`,
        '--build-arg',
        `REVISION=${revision}`,
        '--build-arg',
        `CREATED=${created}`,
        '--build-arg',
        `SOURCE=${source}`,
        ...(ca ? ['--secret', `id=npm_ca,src=${ca}`] : []),
        // the labels again as --label: buildah's cache keeps a LABEL step whose ARG values changed
        ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
        '-t',
        tag,
        '-t',
        latest,
        '.',
      ];
      buildLog.write(`\n### ${service}: podman ${args.join(' ')}\n`);
      const res = await podman.cmd(args, {
        check: false,
        onLine: (line) => {
          buildLog.write(`${line}\n`);
          if (/^\[\d+\/\d+\] STEP \d+\/\d+: (RUN|FROM)/.test(line) && !line.includes('#(nop)')) log(`  ${service}: ${line.slice(0, 120)}`);
        },
      });
      if (res.code !== 0) {
        console.error(`${res.stdout.split('\n').slice(-30).join('\n')}\n${res.stderr.split('\n').slice(-30).join('\n')}`);
        throw new Error(`building ${tag} failed (${res.code}); the whole log is in ${logFile}`);
      }

      const inspect = await podman.inspectImage(tag);
      const got = inspect.Config.Labels ?? inspect.Labels ?? {};
      for (const l of REQUIRED_LABELS) if (!got[l]) throw new Error(`${tag}: label ${l} is missing`);
      for (const [k, v] of Object.entries(labels)) if (got[k] !== v) throw new Error(`${tag}: label ${k} is "${got[k]}", not "${v}"`);
      const user = inspect.Config.User ?? '';
      if (!user || user === 'root' || /^0(:|$)/.test(user)) throw new Error(`${tag}: runs as root (User="${user}")`);

      const sbom = join(IMAGES_DIR, `${service}.cdx.json`);
      await podman.copyFromImage(tag, '/app/sbom.cdx.json', sbom);
      const doc = JSON.parse(readFileSync(sbom, 'utf8')) as {
        bomFormat: string;
        components: unknown[];
        metadata: { component: { name: string } };
      };
      if (doc.bomFormat !== 'CycloneDX' || doc.metadata.component.name !== `dvd-${service}`)
        throw new Error(`${sbom}: not this image's CycloneDX SBOM`);

      const history = JSON.parse((await podman.cmd(['history', '--format', 'json', tag])).stdout) as Array<{ size: number }>;
      const baseLayerBytes = history.length ? history[history.length - 1].size : 0;
      built.push({
        service,
        tag: `localhost/${tag}`,
        latest: `localhost/${latest}`,
        id: inspect.Id,
        sizeBytes: inspect.Size,
        baseLayerBytes,
        sbom: sbom.slice(ROOT.length + 1),
        sbomComponents: doc.components.length,
      });
      log(
        `${tag}: ${mb(inspect.Size)}, user ${user}, SBOM ${doc.components.length} components (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
    buildLog.end();

    const manifest: ImagesManifest = { version, revision, nodeImage, localBase: local, images: built };
    writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);

    const rows = built.map((b) => [
      b.tag.replace(/^localhost\//, ''),
      mb(b.sizeBytes),
      mb(b.baseLayerBytes),
      mb(b.sizeBytes - b.baseLayerBytes),
      b.sizeBytes < SIZE_GOAL_BYTES ? 'yes' : 'no',
      String(b.sbomComponents),
    ]);
    printTable(['image', 'size', 'base (OS + node)', 'app + deps', '< 200 MB', 'SBOM components'], rows);
    console.log(`base: ${nodeImage}${local ? ' (local stand-in: no registry reachable)' : ''}`);
    console.log(
      `SBOMs: ${built.map((b) => b.sbom).join(', ')}; build log: ${logFile.slice(ROOT.length + 1)}; list: ${MANIFEST.slice(ROOT.length + 1)}`,
    );
    log('done');
  } finally {
    podman.dispose();
  }
}

export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`images: ${(err as Error)?.message ?? String(err)}`);
    process.exit(1);
  });
}
