/**
 * Cuts an installed production tree down to what one entry needs (deploy/Dockerfile, stage
 * `web-server-deps`): the packages its compiled code requires — found by following its
 * relative requires from the entry through dist/ — and everything those depend on, as npm
 * itself resolves it (`npm query`). Every other package is removed, and package.json's
 * dependencies are cut to the required ones, so that `npm ls` checks the tree that is left
 * and `npm sbom` describes it and nothing else.
 *
 *   cd /app && node prune-deps.js --entry dist/apps/web-server/src/main.js --files-to /web-server
 *
 * `--files-to` copies the compiled files the entry loads (with their source maps) there,
 * under the same relative paths: the image takes exactly those, not all of dist/libs.
 *
 * A required package that is not a production dependency stops it (the image would fail
 * at its first start). Optional peers that npm does not install for the kept packages
 * (debug's supports-color) stay out: their users load them in a try/catch.
 *
 * Runs inside the build on the base image: node's builtins only, no dependency.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const REQUIRE = /\brequire\(\s*(['"])([^'"\n]+)\1\s*\)/g;

/** `@scope/name/sub/path` → `@scope/name`, `name/sub` → `name`; null for a builtin or a relative path. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return null;
  if (specifier.startsWith('node:') || builtinModules.includes(specifier) || builtinModules.includes(specifier.split('/')[0])) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * What a compiled (CommonJS) entry loads: the files it requires by relative path, its own
 * and the libraries' under dist/ (the entry included), and the packages those require.
 * Both sorted.
 */
export function traceEntry(
  entry: string,
  fs: { read(path: string): string; isFile(path: string): boolean },
): { files: string[]; packages: string[] } {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const resolveFile = (base: string): string => {
    for (const candidate of [base, `${base}.js`, join(base, 'index.js')]) if (fs.isFile(candidate)) return candidate;
    throw new Error(`${base}: required, but no such file`);
  };
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of fs.read(file).matchAll(REQUIRE)) {
      const specifier = m[2];
      if (specifier.startsWith('.')) visit(resolveFile(resolve(dirname(file), specifier)));
      else {
        const pkg = packageOf(specifier);
        if (pkg) packages.add(pkg);
      }
    }
  };
  visit(resolveFile(resolve(entry)));
  return { files: [...seen].sort(), packages: [...packages].sort() };
}

/** The `npm query` selector for these direct dependencies of the root and all they depend on. */
export function closureSelector(packages: string[]): string {
  return packages.flatMap((p) => [`:root > #${p}`, `:root > #${p} *`]).join(', ');
}

/**
 * The installed package folders (`node_modules/a`, `node_modules/@s/b`,
 * `node_modules/a/node_modules/c`, …) to remove: every one that is not kept, outermost
 * only (a removed folder takes its nested node_modules along).
 */
export function foldersToRemove(installed: string[], keep: Set<string>): string[] {
  const removed: string[] = [];
  for (const location of [...installed].sort()) {
    if (keep.has(location)) continue;
    if (removed.some((r) => location.startsWith(`${r}/`))) continue;
    removed.push(location);
  }
  for (const k of keep)
    if (removed.some((r) => k.startsWith(`${r}/`)))
      throw new Error(`${k} is needed, but lies inside ${removed.find((r) => k.startsWith(`${r}/`))}`);
  return removed;
}

/** Every installed package folder below `dir` (a project root), relative to it. */
function installedFolders(root: string, dir = join(root, 'node_modules')): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    const folders = name.startsWith('@') ? readdirSync(path).map((n) => join(path, n)) : [path];
    for (const f of folders) {
      if (!statSync(f).isDirectory()) continue;
      out.push(relative(root, f));
      out.push(...installedFolders(root, join(f, 'node_modules')));
    }
  }
  return out;
}

function main(argv: string[]): void {
  const arg = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const entry = arg('--entry');
  const filesTo = arg('--files-to');
  if (!entry || !filesTo) throw new Error('usage: node prune-deps.js --entry <compiled entry> --files-to <dir> (in the project root)');
  const root = process.cwd();
  const pkgFile = join(root, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: unknown };

  const isFile = (p: string) => existsSync(p) && statSync(p).isFile();
  const { files, packages: required } = traceEntry(entry, { read: (p) => readFileSync(p, 'utf8'), isFile });
  const notProduction = required.filter((p) => !pkg.dependencies?.[p]);
  if (notProduction.length) throw new Error(`required, but not production dependencies in package.json: ${notProduction.join(', ')}`);

  const query = JSON.parse(execFileSync('npm', ['query', closureSelector(required)], { cwd: root, encoding: 'utf8' })) as Array<{
    location: string;
  }>;
  const keep = new Set(query.map((q) => q.location));
  for (const p of required) if (!keep.has(`node_modules/${p}`)) throw new Error(`${p} is not installed at node_modules/${p}`);

  const installed = installedFolders(root);
  const remove = foldersToRemove(installed, keep);
  for (const r of remove) rmSync(join(root, r), { recursive: true, force: true });
  // empty scope folders, the links to binaries nothing runs, npm's now stale record of the tree
  for (const name of readdirSync(join(root, 'node_modules'))) {
    const path = join(root, 'node_modules', name);
    if (name.startsWith('@') && readdirSync(path).length === 0) rmSync(path, { recursive: true });
  }
  rmSync(join(root, 'node_modules', '.bin'), { recursive: true, force: true });
  rmSync(join(root, 'node_modules', '.package-lock.json'), { force: true });

  for (const f of files.flatMap((f) => (isFile(`${f}.map`) ? [f, `${f}.map`] : [f]))) {
    const to = join(filesTo, relative(root, f));
    if (to.startsWith('..')) throw new Error(`${f} is outside the project`);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(f, to);
  }

  pkg.dependencies = Object.fromEntries(required.map((p) => [p, pkg.dependencies![p]]));
  delete pkg.devDependencies;
  writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  console.log(
    `prune-deps: ${entry} loads ${files.length} files of ours (copied to ${filesTo}) and requires ${required.join(', ')}; kept ${keep.size} of ${installed.length} installed packages, removed ${remove.length} folders`,
  );
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(`prune-deps: ${(err as Error).message}`);
    process.exit(1);
  }
}
