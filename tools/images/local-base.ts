/**
 * A local stand-in for node:24-bookworm-slim, for machines that reach no container
 * registry: Debian 12 (bookworm) minbase from the Debian mirror apt uses, the Node.js 24
 * binary this repository pins (the npm `node` package), npm, and the user node (uid and
 * gid 1000, home /home/node) — the same layout as the official image (/usr/local/bin/node,
 * /usr/local/lib/node_modules/npm). Trimmed of documentation, locales and apt's lists.
 * Built once per Node version and kept (`podman image exists` first).
 */
import { ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  closeSync,
  realpathSync,
  rmSync,
  symlinkSync,
  chmodSync,
  chownSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Podman, run } from './podman';

const SUITE = 'bookworm';
const FALLBACK_MIRROR = 'http://deb.debian.org/debian';

/** The Debian mirror apt uses (deb822 `URIs:` or one-line `deb` entries), for debootstrap. */
export function debianMirror(sources: string[]): string {
  for (const text of sources) {
    // deb822: a stanza with Suites: bookworm and URIs: <mirror>
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uris && suites.includes(SUITE) && /\/debian\/?$/.test(uris)) return uris.replace(/\/$/, '');
    }
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && m[2] === SUITE && /\/debian\/?$/.test(m[1])) return m[1].replace(/\/$/, '');
    }
  }
  return FALLBACK_MIRROR;
}

function aptSources(): string[] {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(dir, f));
  return files.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8'));
}

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    return b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

/** The real Node.js binary running this script (the npm `node` package's, via npm run). */
export function nodeBinary(): { path: string; version: string } {
  const path = realpathSync(process.execPath);
  if (!isElf(path)) throw new Error(`${path} is not an ELF binary; run through npm (the npm "node" package)`);
  if (!process.version.startsWith('v24.')) throw new Error(`Node.js 24 expected, this is ${process.version}: run through npm`);
  return { path, version: process.version.slice(1) };
}

/** npm's own folder (…/node_modules/npm), from npm_execpath or next to the node in PATH. */
function npmDir(): string {
  const candidates = [
    process.env.npm_execpath,
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
    '/usr/local/lib/node_modules/npm/bin/npm-cli.js',
  ];
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    const dir = dirname(dirname(realpathSync(c)));
    if (
      existsSync(join(dir, 'package.json')) &&
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'npm'
    )
      return dir;
  }
  throw new Error('npm not found (npm_execpath unset): run `npm run images`');
}

export function localBaseTag(nodeVersion: string): string {
  return `localhost/dvd-base:${SUITE}-node${nodeVersion}`;
}

/** Makes the local base unless it exists; returns its tag. */
export async function ensureLocalBase(podman: Podman, log: (line: string) => void): Promise<string> {
  const node = nodeBinary();
  const tag = localBaseTag(node.version);
  if (await podman.imageExists(tag)) {
    log(`local base ${tag} exists (kept)`);
    return tag;
  }
  if (process.getuid?.() !== 0)
    throw new Error('making the local base needs root (debootstrap); or set NODE_IMAGE to a reachable node:24-bookworm-slim');
  const mirror = debianMirror(aptSources());
  const work = mkdtempSync(join('/var/tmp', 'dvd-base-'));
  const rootfs = join(work, 'rootfs');
  const started = Date.now();
  try {
    log(`local base: debootstrap --variant=minbase ${SUITE} from ${mirror}`);
    const boot = await run('debootstrap', ['--variant=minbase', SUITE, rootfs, mirror]);
    if (boot.code !== 0)
      throw new Error(`debootstrap failed (${boot.code}): ${(boot.stderr || boot.stdout).split('\n').slice(-8).join('\n')}`);

    // Node.js exactly as the repository pins it, and npm (build stages run npm ci)
    const local = join(rootfs, 'usr', 'local');
    copyFileSync(node.path, join(local, 'bin', 'node'));
    chmodSync(join(local, 'bin', 'node'), 0o755);
    mkdirSync(join(local, 'lib', 'node_modules'), { recursive: true });
    cpSync(npmDir(), join(local, 'lib', 'node_modules', 'npm'), { recursive: true, dereference: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin', 'npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin', 'npx'));

    // the user node, uid/gid 1000, as in the official image
    const etc = join(rootfs, 'etc');
    appendFileSync(join(etc, 'group'), 'node:x:1000:\n');
    appendFileSync(join(etc, 'gshadow'), 'node:!::\n');
    appendFileSync(join(etc, 'passwd'), 'node:x:1000:1000::/home/node:/bin/bash\n');
    appendFileSync(join(etc, 'shadow'), 'node:!:20000:0:99999:7:::\n');
    mkdirSync(join(rootfs, 'home', 'node'), { mode: 0o755 });
    chownSync(join(rootfs, 'home', 'node'), 1000, 1000);

    // trimmed like Debian's slim images: no docs (copyright kept), man pages, locales, apt lists or caches
    const share = join(rootfs, 'usr', 'share');
    for (const d of readdirSync(join(share, 'doc'))) {
      const p = join(share, 'doc', d);
      if (!statSync(p).isDirectory()) continue;
      for (const f of readdirSync(p)) if (f !== 'copyright') rmSync(join(p, f), { recursive: true, force: true });
    }
    for (const d of ['man', 'info', 'lintian', 'linda']) rmSync(join(share, d), { recursive: true, force: true });
    for (const d of readdirSync(join(share, 'locale')))
      if (d !== 'locale.alias') rmSync(join(share, 'locale', d), { recursive: true, force: true });
    for (const d of ['var/lib/apt/lists', 'var/cache/apt', 'var/log', 'tmp']) {
      const p = join(rootfs, d);
      for (const f of existsSync(p) ? readdirSync(p) : []) rmSync(join(p, f), { recursive: true, force: true });
    }
    for (const f of readdirSync(join(rootfs, 'var', 'cache', 'debconf')))
      if (f.endsWith('-old')) rmSync(join(rootfs, 'var', 'cache', 'debconf', f));

    log('local base: podman import');
    await importTar(podman, rootfs, tag, node.version);
    const check = await podman.cmd([
      'run',
      '--rm',
      '--pull=never',
      '--network=none',
      '--user',
      'node',
      tag,
      'node',
      '-p',
      'process.version+" uid="+process.getuid()',
    ]);
    log(`local base ${tag}: ${check.stdout.trim()} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `tar -C rootfs -c . | podman import - tag`, two processes joined by a pipe, no shell. */
function importTar(podman: Podman, rootfs: string, tag: string, nodeVersion: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const tar = spawn('tar', ['--numeric-owner', '-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const imp = spawn(
      'podman',
      [
        ...podman.globalArgs,
        'import',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        `ENV NODE_VERSION=${nodeVersion}`,
        '--change',
        'CMD ["node"]',
        '--message',
        `local stand-in for node:24-bookworm-slim (Debian ${SUITE} minbase, Node ${nodeVersion})`,
        '-',
        tag,
      ],
      { env: podman.env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    tar.stdout.pipe(imp.stdin);
    let err = '';
    tar.stderr.on('data', (c: Buffer) => (err += c.toString()));
    imp.stderr.on('data', (c: Buffer) => (err += c.toString()));
    imp.stdout.resume();
    const exit = (child: ChildProcess) =>
      new Promise<number | null>((r, j) => {
        child.on('error', j);
        child.on('close', (code) => r(code));
      });
    Promise.all([exit(tar), exit(imp)]).then(([tarCode, impCode]) => {
      if (tarCode === 0 && impCode === 0) resolvePromise();
      else reject(new Error(`tar (${tarCode}) | podman import (${impCode}) failed: ${err.trim().split('\n').slice(-5).join(' | ')}`));
    }, reject);
  });
}
