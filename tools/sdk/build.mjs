#!/usr/bin/env node
// Builds the publishable SDK package into dist/sdk-package/ (ESM and CommonJS for Node ≥ 20
// and bundlers, declarations, README) and a self-contained browser bundle
// (dist/sdk-package/browser/dvd-sdk.min.js) that must not need any Node built-in: esbuild
// fails the build if one is imported. Prints the sizes.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'dist/sdk-package');
const pkg = JSON.parse(readFileSync(join(root, 'libs/sdk/package.json'), 'utf8'));
const external = Object.keys(pkg.dependencies);
const alias = { '@dvd/contracts': join(root, 'libs/contracts/src/index.ts') };

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** The node entry re-uses the main entry (one copy of every class, so `instanceof` holds across both). */
const mainEntryExternal = (file) => ({
  name: 'main-entry-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\// }, (args) =>
      args.importer.includes('/libs/sdk/src/node/') ? { path: file, external: true } : undefined,
    );
  },
});

const common = { bundle: true, alias, target: 'es2022', sourcemap: true, logLevel: 'warning', legalComments: 'none' };
for (const [entry, name] of [
  ['libs/sdk/src/index.ts', 'index'],
  ['libs/sdk/src/node/index.ts', 'node'],
]) {
  const platform = name === 'node' ? 'node' : 'neutral';
  const mjs = { plugins: name === 'node' ? [mainEntryExternal('./index.mjs')] : [] };
  const cjs = { plugins: name === 'node' ? [mainEntryExternal('./index.cjs')] : [] };
  await build({
    ...common,
    ...mjs,
    entryPoints: [join(root, entry)],
    outfile: join(out, `${name}.mjs`),
    format: 'esm',
    platform,
    external,
    mainFields: ['module', 'main'],
  });
  await build({
    ...common,
    ...cjs,
    entryPoints: [join(root, entry)],
    outfile: join(out, `${name}.cjs`),
    format: 'cjs',
    platform,
    external,
    mainFields: ['main', 'module'],
  });
}

// the browser bundle: everything inside, no Node built-in allowed
const browserFile = join(out, 'browser/dvd-sdk.min.js');
await build({
  ...common,
  entryPoints: [join(root, 'libs/sdk/src/index.ts')],
  outfile: browserFile,
  format: 'esm',
  platform: 'browser',
  minify: true,
  metafile: false,
});

// declarations of the SDK and the contracts it is typed from, with the alias made relative
const tsconfig = join(root, 'libs/sdk/tsconfig.package.json');
const bin = (name) => join(root, 'node_modules/.bin', name);
execFileSync(bin('tsc'), ['-p', tsconfig], { stdio: 'inherit' });
execFileSync(bin('tsc-alias'), ['-p', tsconfig], { stdio: 'inherit' });

writeFileSync(join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
copyFileSync(join(root, 'libs/sdk/README.md'), join(out, 'README.md'));

const size = (f) => statSync(f).size;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const browser = readFileSync(browserFile);
console.log(`[sdk] package ${pkg.name}@${pkg.version} in ${out}`);
console.log(
  `[sdk] index.mjs ${kib(size(join(out, 'index.mjs')))}, index.cjs ${kib(size(join(out, 'index.cjs')))}, node.mjs ${kib(size(join(out, 'node.mjs')))} (dependencies external)`,
);
console.log(
  `[sdk] browser bundle ${kib(browser.length)} minified, ${kib(gzipSync(browser).length)} gzip (everything inside, no Node built-ins): ${browserFile}`,
);
