import { CdxDocument, imageSbom, parseDpkgStatus, parseOsRelease } from './sbom';

const STATUS = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u13
Description: GNU C Library
 multi-line description

Package: removed-thing
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u13
`;

const npm: CdxDocument = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  serialNumber: 'urn:uuid:old',
  version: 1,
  metadata: {
    timestamp: '2026-01-01T00:00:00Z',
    tools: [{ vendor: 'npm', name: 'cli', version: '11' }],
    component: {
      'bom-ref': 'direktvermittlung-de@0.1.0',
      type: 'application',
      name: 'app',
      version: '0.1.0',
      purl: 'pkg:npm/direktvermittlung-de@0.1.0',
    },
  },
  components: [{ 'bom-ref': 'zod@3.25.76', type: 'library', name: 'zod', version: '3.25.76', purl: 'pkg:npm/zod@3.25.76' }],
  dependencies: [
    { ref: 'direktvermittlung-de@0.1.0', dependsOn: ['zod@3.25.76'] },
    { ref: 'zod@3.25.76', dependsOn: [] },
  ],
};

describe('image SBOM', () => {
  it('reads the installed packages of a dpkg status file, with their source package', () => {
    expect(parseDpkgStatus(STATUS)).toEqual([
      { name: 'base-files', version: '12.4+deb12u13', architecture: 'amd64', source: undefined },
      { name: 'libc6', version: '2.36-9+deb12u13', architecture: 'amd64', source: 'glibc' },
    ]);
  });

  it('reads os-release', () => {
    expect(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n')).toEqual({
      id: 'debian',
      versionId: '12',
    });
  });

  it('names the image as the subject and adds Node and the OS packages with package URLs a scanner matches', () => {
    const doc = imageSbom({
      npm,
      dpkg: parseDpkgStatus(STATUS),
      os: { id: 'debian', versionId: '12', debianVersion: '12.12' },
      nodeVersion: 'v24.21.0',
      name: 'dvd-intake',
      version: '0.1.0',
      timestamp: '2026-12-03T00:00:00Z',
      serialNumber: 'urn:uuid:new',
    });
    expect(doc.serialNumber).toBe('urn:uuid:new');
    expect(doc.metadata.component).toEqual({
      'bom-ref': 'direktvermittlung-de@0.1.0',
      type: 'application',
      name: 'dvd-intake',
      version: '0.1.0',
    });
    expect(doc.metadata.tools).toHaveLength(2);
    expect(doc.components.map((c) => c.purl ?? c['bom-ref'])).toEqual([
      'pkg:npm/zod@3.25.76',
      'os:debian-12',
      'pkg:generic/node@24.21.0',
      'pkg:deb/debian/base-files@12.4%2Bdeb12u13?arch=amd64&distro=debian-12',
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u13?arch=amd64&distro=debian-12&upstream=glibc',
    ]);
    expect(doc.components.find((c) => c.name === 'node')?.cpe).toBe('cpe:2.3:a:nodejs:node.js:24.21.0:*:*:*:*:*:*:*');
    expect(doc.dependencies?.find((d) => d.ref === 'direktvermittlung-de@0.1.0')?.dependsOn).toEqual([
      'zod@3.25.76',
      'pkg:generic/node@24.21.0',
      'os:debian-12',
    ]);
    // every reference resolves to a component or the subject
    const refs = new Set([...doc.components.map((c) => c['bom-ref']), 'direktvermittlung-de@0.1.0']);
    for (const d of doc.dependencies ?? []) for (const r of [d.ref, ...(d.dependsOn ?? [])]) expect(refs).toContain(r);
    // the input is left as it was
    expect(npm.components).toHaveLength(1);
  });

  it('refuses what is not a CycloneDX document', () => {
    expect(() =>
      imageSbom({
        npm: { bomFormat: 'SPDX' } as unknown as CdxDocument,
        dpkg: [],
        os: { id: 'debian', versionId: '12' },
        nodeVersion: 'v24.0.0',
        name: 'x',
        version: '1',
      }),
    ).toThrow(/CycloneDX/);
  });
});
