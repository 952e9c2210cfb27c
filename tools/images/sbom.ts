/**
 * The CycloneDX SBOM of one service image (deploy/Dockerfile, stage `sbom`): npm's own
 * CycloneDX document of the production tree (`npm sbom`), with the image's other
 * software added beside it — the operating system's packages (read from dpkg's status
 * file) and the Node.js runtime — and the image named as the document's subject. A
 * scanner reading this one file sees what the image ships, Node and Debian included.
 *
 *   node sbom.js --npm npm.cdx.json --dpkg /var/lib/dpkg/status --name dvd-intake --version 0.1.0 --out sbom.cdx.json
 *
 * Runs inside the build on the base image: node's builtins only, no dependency.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface CdxComponent {
  'bom-ref': string;
  type: string;
  name: string;
  version: string;
  purl?: string;
  cpe?: string;
  description?: string;
  properties?: Array<{ name: string; value: string }>;
  [key: string]: unknown;
}

export interface CdxDocument {
  bomFormat: 'CycloneDX';
  specVersion: string;
  serialNumber?: string;
  version: number;
  metadata: { timestamp?: string; tools?: unknown; component?: CdxComponent; [key: string]: unknown };
  components: CdxComponent[];
  dependencies?: Array<{ ref: string; dependsOn?: string[] }>;
  [key: string]: unknown;
}

export interface DpkgPackage {
  name: string;
  version: string;
  architecture: string;
  source?: string;
}

/** The installed packages of a dpkg status file (stanzas whose Status ends in "installed"). */
export function parseDpkgStatus(text: string): DpkgPackage[] {
  const out: DpkgPackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) fields[m[1].toLowerCase()] = m[2].trim();
    }
    if (!fields.package || !fields.version || !/\binstalled$/.test(fields.status ?? '')) continue;
    // "Source: glibc (2.36-9)" names the source package and, when it differs, its version
    const source = fields.source?.split(/\s+/)[0];
    out.push({ name: fields.package, version: fields.version, architecture: fields.architecture ?? 'all', source });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** ID and VERSION_ID of an os-release file, e.g. { id: 'debian', versionId: '12' }. */
export function parseOsRelease(text: string): { id: string; versionId: string } {
  const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
  return { id: get('ID') || 'linux', versionId: get('VERSION_ID') };
}

/** Percent-encoding of a purl name or version segment. */
const purlPart = (s: string) => encodeURIComponent(s).replace(/%3A/gi, ':');

export interface ImageSbomInput {
  npm: CdxDocument;
  dpkg: DpkgPackage[];
  os: { id: string; versionId: string; debianVersion?: string };
  nodeVersion: string;
  name: string;
  version: string;
  timestamp?: string;
  serialNumber?: string;
}

/** npm's document with the image as its subject and the OS packages and Node added. */
export function imageSbom(input: ImageSbomInput): CdxDocument {
  const doc: CdxDocument = JSON.parse(JSON.stringify(input.npm)) as CdxDocument;
  if (doc.bomFormat !== 'CycloneDX' || !Array.isArray(doc.components)) throw new Error('not a CycloneDX document with components');
  const rootRef = doc.metadata.component?.['bom-ref'] ?? input.name;
  const distro = `${input.os.id}-${input.os.versionId}`;
  const osRef = `os:${distro}`;
  const nodeVersion = input.nodeVersion.replace(/^v/, '');
  const nodeRef = `pkg:generic/node@${nodeVersion}`;

  const osComponent: CdxComponent = {
    'bom-ref': osRef,
    type: 'operating-system',
    name: input.os.id,
    version: input.os.debianVersion || input.os.versionId,
    description: 'the base image’s operating system',
  };
  const nodeComponent: CdxComponent = {
    'bom-ref': nodeRef,
    type: 'application',
    name: 'node',
    version: nodeVersion,
    purl: nodeRef,
    cpe: `cpe:2.3:a:nodejs:node.js:${nodeVersion}:*:*:*:*:*:*:*`,
    description: 'Node.js runtime (/usr/local/bin/node)',
  };
  const debComponents: CdxComponent[] = input.dpkg.map((p) => {
    const qualifiers = [
      `arch=${p.architecture}`,
      `distro=${distro}`,
      ...(p.source && p.source !== p.name ? [`upstream=${purlPart(p.source)}`] : []),
    ];
    const purl = `pkg:deb/${input.os.id}/${purlPart(p.name)}@${purlPart(p.version)}?${qualifiers.join('&')}`;
    return { 'bom-ref': purl, type: 'library', name: p.name, version: p.version, purl };
  });

  const npmRefs = new Set(doc.components.map((c) => c['bom-ref']));
  for (const c of [osComponent, nodeComponent, ...debComponents]) {
    if (npmRefs.has(c['bom-ref'])) throw new Error(`duplicate bom-ref ${c['bom-ref']}`);
  }

  doc.serialNumber = input.serialNumber ?? `urn:uuid:${randomUUID()}`;
  doc.metadata = {
    ...doc.metadata,
    timestamp: input.timestamp ?? new Date().toISOString(),
    component: {
      ...(doc.metadata.component ?? {}),
      'bom-ref': rootRef,
      type: 'application',
      name: input.name,
      version: input.version,
      // the project is private: no npm package URL
      purl: undefined,
    },
  };
  const tools = Array.isArray(doc.metadata.tools) ? (doc.metadata.tools as unknown[]) : [];
  doc.metadata.tools = [...tools, { vendor: 'DirektVermittlungDe', name: 'tools/images/sbom', version: input.version }];
  doc.components = [...doc.components, osComponent, nodeComponent, ...debComponents];
  const deps = doc.dependencies ?? [];
  const root = deps.find((d) => d.ref === rootRef);
  if (root) root.dependsOn = [...(root.dependsOn ?? []), nodeRef, osRef];
  else deps.push({ ref: rootRef, dependsOn: [nodeRef, osRef] });
  deps.push({ ref: nodeRef, dependsOn: [] }, { ref: osRef, dependsOn: debComponents.map((c) => c['bom-ref']) });
  doc.dependencies = deps;
  return JSON.parse(JSON.stringify(doc)) as CdxDocument; // drops the undefined purl
}

function arg(argv: string[], name: string): string {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? argv[i + 1] : undefined;
  if (!v) throw new Error(`missing --${name}`);
  return v;
}

function main(argv: string[]): void {
  const dpkgFile = arg(argv, 'dpkg');
  const osRelease = ['/etc/os-release', '/usr/lib/os-release'].find((f) => existsSync(f));
  const doc = imageSbom({
    npm: JSON.parse(readFileSync(arg(argv, 'npm'), 'utf8')) as CdxDocument,
    dpkg: parseDpkgStatus(readFileSync(dpkgFile, 'utf8')),
    os: {
      ...parseOsRelease(osRelease ? readFileSync(osRelease, 'utf8') : ''),
      debianVersion: existsSync('/etc/debian_version') ? readFileSync('/etc/debian_version', 'utf8').trim() : undefined,
    },
    nodeVersion: process.version,
    name: arg(argv, 'name'),
    version: arg(argv, 'version'),
  });
  writeFileSync(arg(argv, 'out'), `${JSON.stringify(doc, null, 2)}\n`);
  const deb = doc.components.filter((c) => c.purl?.startsWith('pkg:deb/')).length;
  process.stdout.write(`sbom: ${doc.components.length} components (${deb} OS packages, node ${process.version}) -> ${arg(argv, 'out')}\n`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`sbom: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
