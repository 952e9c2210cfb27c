import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');

/**
 * Proves the module-boundary matrix is enforced, not decorative: files that break it must
 * fail lint with the boundary rule. They are linted in a temporary copy of what ESLint and
 * Nx read (config, project files, tsconfigs, lock file, sources), never in the source tree.
 */
type LintResult = { filePath: string; messages: Array<{ ruleId: string | null; message: string }> };

/** What the lint run reads: the configuration, every project's definition and the sources. */
const NEEDED =
  /^(eslint\.config\.js|nx\.json|package\.json|package-lock\.json|tsconfig[^/]*\.json|(apps|libs|tools)\/.*project\.json|(apps|libs)\/[^/]+\/src\/.*\.ts)$/;

/** A copy of the workspace's lint inputs in a temporary directory (node_modules linked, not copied). */
async function lintWorkspaceCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dvd-boundaries-'));
  const { stdout } = await run('git', ['ls-files'], { cwd: ROOT, maxBuffer: 10 * 1024 * 1024 });
  for (const file of stdout.split('\n').filter((f) => NEEDED.test(f))) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await cp(join(ROOT, file), join(dir, file));
  }
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

const nxEnv = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

/** The ESLint CLI (its API cannot load the flat config inside jest's VM). */
async function lint(cwd: string, files: string[]): Promise<LintResult[]> {
  // --no-ignore: probe files are ignored by the normal lint run
  const out = await run(join(cwd, 'node_modules', '.bin', 'eslint'), ['--no-ignore', '--format', 'json', ...files], {
    cwd,
    env: nxEnv,
    maxBuffer: 10 * 1024 * 1024,
  }).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => e.stdout ?? '[]',
  );
  return JSON.parse(out) as LintResult[];
}

const ALLOWED = 'apps/intake/src/app.module.ts';

describe('module boundaries (eslint, @nx/enforce-module-boundaries)', () => {
  const results = new Map<string, LintResult>();
  const probes: Array<{ path: string; code: string; expect: RegExp }> = [
    {
      path: 'libs/contracts/src/__boundary_probe__.ts',
      code: "import '@nestjs/common';\nexport const x = 1;\n",
      expect: /type:contracts.*not allowed to import "@nestjs\/common"/,
    },
    {
      path: 'libs/platform/src/__boundary_probe__.ts',
      code: "import { pollUntil } from '@dvd/testing';\nexport const x = pollUntil;\n",
      expect: /type:platform/,
    },
    {
      path: 'apps/intake/src/__boundary_probe__.ts',
      code: "import { uniqueName } from '@dvd/testing';\nexport const x = uniqueName;\n",
      expect: /type:app/,
    },
    {
      path: 'apps/intake/src/__boundary_probe2__.ts',
      code: "import { GatewayModule } from '../../gateway/src/app.module';\nexport const x = GatewayModule;\n",
      expect: /Projects cannot be imported by a relative or absolute path/,
    },
  ];

  let work: string;

  beforeAll(async () => {
    work = await lintWorkspaceCopy();
    for (const p of probes) await writeFile(join(work, p.path), p.code);
    // the rule reads Nx's project graph from its cache (of the copy); make sure it exists
    await run(join(work, 'node_modules', '.bin', 'nx'), ['show', 'projects'], { cwd: work, env: nxEnv });
    for (const r of await lint(work, [...probes.map((p) => p.path), ALLOWED])) results.set(r.filePath, r);
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes nothing into the source tree', async () => {
    const { stdout } = await run('git', ['status', '--porcelain', '--untracked-files=all', '--', 'apps', 'libs'], { cwd: ROOT });
    expect(stdout.split('\n').filter((l) => l.includes('__boundary_probe'))).toEqual([]);
  });

  it.each(probes.map((p) => [p.path, p] as const))('refuses %s', (_path, probe) => {
    const result = results.get(join(work, probe.path))!;
    const boundary = result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
    expect(boundary.map((m) => m.message).join('\n')).toMatch(probe.expect);
  });

  it('accepts what the matrix allows (an app using platform and contracts)', () => {
    const result = results.get(join(work, ALLOWED))!;
    expect(result.messages.filter((m) => m.ruleId === null)).toEqual([]); // it was really linted (no parse error)
    expect(result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries')).toEqual([]);
  });
});
