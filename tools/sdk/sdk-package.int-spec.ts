import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const PKG = join(ROOT, 'dist', 'sdk-package');
/** The machine's own Node.js (20 on this machine kind), not the pinned Node 24 of the npm scripts. */
const SYSTEM_NODE = '/usr/bin/node';

const run = (node: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(node, args, { cwd: ROOT }, (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr })),
  );

const ROUND_TRIP = `
  const { generateAuthorityKeyPair, generateReplyKeyPair, encryptFor, decryptWith, encryptMessage, decryptMessage } = sdk;
  const out = [];
  for (const pair of [await generateAuthorityKeyPair(), await generateAuthorityKeyPair({ alg: 'ECDH-ES+A256KW' }), await generateReplyKeyPair()]) {
    const jwe = await encryptFor(new TextEncoder().encode('Bauantrag'), pair.publicJwk);
    out.push(new TextDecoder().decode(await decryptWith(jwe, pair.privateJwk)));
    out.push((await decryptMessage(await encryptMessage({ text: 'Hallo' }, pair.publicJwk), pair.privateJwk)).text);
  }
  console.log(JSON.stringify({ node: process.version, out, receiver: typeof node.startExportReceiver }));
`;

/** The publishable package (npm run build → dist/sdk-package) works as published, on the oldest Node it supports. */
describe('@dvd/sdk package', () => {
  beforeAll(() => {
    if (!existsSync(join(PKG, 'package.json'))) throw new Error('dist/sdk-package is missing: run `npm run build` first (npm test does)');
  });

  it('declares its entry points, types and dependencies, none of them NestJS', () => {
    const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      exports: Record<string, Record<string, string>>;
      dependencies: Record<string, string>;
    };
    expect(pkg.name).toBe('@dvd/sdk');
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const entry of ['.', './node'])
      for (const file of Object.values(pkg.exports[entry])) expect(existsSync(join(PKG, file))).toBe(true);
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith('@nestjs'))).toEqual([]);
    expect(readFileSync(join(PKG, 'README.md'), 'utf8')).toContain('sendDocument');
  });

  it.each([
    [
      'CommonJS',
      'round-trip.cjs',
      `const sdk = require('${PKG}/index.cjs'); const node = require('${PKG}/node.cjs'); (async () => {${ROUND_TRIP}})();`,
    ],
    ['ESM', 'round-trip.mjs', `import * as sdk from '${PKG}/index.mjs'; import * as node from '${PKG}/node.mjs';${ROUND_TRIP}`],
  ])('encrypts and decrypts on the system Node.js (%s)', async (_kind, _name, source) => {
    const flag = source.startsWith('import') ? '--input-type=module' : '--input-type=commonjs';
    const r = await run(SYSTEM_NODE, [flag, '-e', source]);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as { node: string; out: string[]; receiver: string };
    expect(Number(/^v(\d+)/.exec(result.node)![1])).toBeGreaterThanOrEqual(20);
    expect(result.out).toEqual(['Bauantrag', 'Hallo', 'Bauantrag', 'Hallo', 'Bauantrag', 'Hallo']);
    expect(result.receiver).toBe('function');
  });

  it('has a browser bundle without Node built-ins', () => {
    const bundle = readFileSync(join(PKG, 'browser', 'dvd-sdk.min.js'), 'utf8');
    expect(bundle.length).toBeGreaterThan(10_000);
    expect(bundle).not.toMatch(/\brequire\(|from\s*["']node:|["'](fs|crypto|http|stream|buffer)["']/);
  });
});
