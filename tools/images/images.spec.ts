import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerfileNodeImage } from './build';
import { debianMirror } from './local-base';
import { IMAGES, ROOT, buildTarget } from './podman';
import { hardenedRunArgs } from './test';

describe('images tooling', () => {
  it('reads the Dockerfile’s base: node:24 bookworm-slim pinned by a sha256 digest', () => {
    const ref = dockerfileNodeImage(readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8'));
    expect(ref).toMatch(/^node:24-bookworm-slim@sha256:[0-9a-f]{64}$/);
    expect(() => dockerfileNodeImage('FROM scratch\n')).toThrow(/NODE_IMAGE/);
  });

  it('finds the Debian mirror apt uses, in deb822 and one-line sources, else the default', () => {
    const deb822 = `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`;
    expect(debianMirror([deb822])).toBe('http://mirror.example/debian');
    expect(debianMirror(['deb [arch=amd64] https://deb.example/debian/ bookworm main\n'])).toBe('https://deb.example/debian');
    expect(debianMirror(['deb https://other.example/ubuntu jammy main\n'])).toBe('http://deb.debian.org/debian');
  });

  it('runs every service read-only, non-root, without capabilities; a tmpfs only for export-worker', () => {
    const intake = hardenedRunArgs({ name: 'c', runId: 'r', service: 'intake' });
    expect(intake).toEqual(
      expect.arrayContaining([
        '--read-only',
        '--read-only-tmpfs=false',
        '--cap-drop=ALL',
        '--security-opt=no-new-privileges',
        '--network=host',
      ]),
    );
    expect(intake[intake.indexOf('--user') + 1]).toBe('node');
    expect(intake).not.toContain('--tmpfs');
    const worker = hardenedRunArgs({ name: 'c', runId: 'r', service: 'export-worker' });
    expect(worker[worker.indexOf('--tmpfs') + 1]).toMatch(/^\/tmp:rw,noexec,nosuid,nodev,size=\d+m,mode=1777$/);
  });

  it('builds the six services from the runtime stage with APP, and the web server from its own stage', () => {
    expect(IMAGES).toEqual(['gateway', 'intake', 'routing-engine', 'communication', 'export-worker', 'realtime', 'web-server']);
    expect(buildTarget('intake')).toEqual(['--target', 'runtime', '--build-arg', 'APP=intake']);
    expect(buildTarget('web-server')).toEqual(['--target', 'web-server']);
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
    for (const target of ['runtime', 'web-server']) expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${target}$`, 'm'));
    // the web server runs like the services: read-only, as node, no capabilities, no tmpfs
    const web = hardenedRunArgs({ name: 'c', runId: 'r', service: 'web-server' });
    expect(web).toEqual(
      expect.arrayContaining(['--read-only', '--read-only-tmpfs=false', '--cap-drop=ALL', '--security-opt=no-new-privileges']),
    );
    expect(web[web.indexOf('--user') + 1]).toBe('node');
    expect(web).not.toContain('--tmpfs');
  });
});
