import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');

/**
 * Proves the module-boundary matrix is enforced, not decorative: files that break it are
 * written into the projects for a moment and must fail lint with the boundary rule.
 */
type LintResult = { filePath: string; messages: Array<{ ruleId: string | null; message: string }> };

/** The ESLint CLI (its API cannot load the flat config inside jest's VM). */
async function lint(files: string[]): Promise<LintResult[]> {
  // --no-ignore: the probe files are ignored by the normal lint run, in case one is ever left behind
  const out = await run(join(ROOT, 'node_modules', '.bin', 'eslint'), ['--no-ignore', '--format', 'json', ...files], {
    cwd: ROOT,
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

  beforeAll(async () => {
    // the rule reads Nx's project graph from its cache; make sure it exists
    await run(join(ROOT, 'node_modules', '.bin', 'nx'), ['show', 'projects'], {
      cwd: ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    });
    for (const p of probes) await writeFile(join(ROOT, p.path), p.code);
    for (const r of await lint([...probes.map((p) => join(ROOT, p.path)), join(ROOT, ALLOWED)])) results.set(r.filePath, r);
  }, 120_000);

  afterAll(async () => {
    for (const p of probes) await rm(join(ROOT, p.path), { force: true });
  });

  it.each(probes.map((p) => [p.path, p] as const))('refuses %s', (_path, probe) => {
    const result = results.get(join(ROOT, probe.path))!;
    const boundary = result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
    expect(boundary.map((m) => m.message).join('\n')).toMatch(probe.expect);
  });

  it('accepts what the matrix allows (an app using platform and contracts)', () => {
    const result = results.get(join(ROOT, ALLOWED))!;
    expect(result.messages.filter((m) => m.ruleId === null)).toEqual([]); // it was really linted (no parse error)
    expect(result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries')).toEqual([]);
  });
});
