/**
 * Checks the deployment files offline (no Docker, no cluster, no kubectl):
 *
 * - docker-compose.yml against the Compose JSON schema (shipped in the npm package dclint)
 *   and the platform's rules (only the gateway is published, healthchecks, dev-idp is dev-only);
 * - deploy/k8s: every base manifest and every rendered overlay against the Kubernetes OpenAPI
 *   schemas (kubernetes-models, via validate-k8s.mjs because that package is ESM-only), plus
 *   the platform's rules (probes, resources, Services, HPAs, PDBs, migration Job, one Ingress);
 * - that every environment variable an app reads (its zod config schema) is in .env.example,
 *   in its docker-compose service and in its Kubernetes configuration;
 * - the Dockerfile's service stage (no dev-idp, non-root, HEALTHCHECK).
 *
 * The overlays are rendered by a small Kustomize subset below (resources, namespace, labels,
 * images, replicas, patches). It refuses what it does not implement, so it never renders
 * something different from `kubectl kustomize` without saying so.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { z } from 'zod';
import { migrationConfigSchema } from '@dvd/platform';
// This test inspects the apps' configuration schemas, the single source of truth for the
// variables each app reads. Tooling may not depend on apps in production code; a test
// that reads their schemas is the exception.
/* eslint-disable @nx/enforce-module-boundaries */
import { communicationConfigSchema } from '../../apps/communication/src/communication.config';
import { exportWorkerConfigSchema } from '../../apps/export-worker/src/export-worker.config';
import { gatewayConfigSchema } from '../../apps/gateway/src/gateway.config';
import { intakeConfigSchema } from '../../apps/intake/src/intake.config';
import { routingEngineConfigSchema } from '../../apps/routing-engine/src/routing-engine.config';
/* eslint-enable @nx/enforce-module-boundaries */

const ROOT = resolve(__dirname, '../..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const ENV_EXAMPLE = join(ROOT, '.env.example');
const DOCKERFILE = join(ROOT, 'deploy/Dockerfile');
const K8S_BASE = join(ROOT, 'deploy/k8s/base');
const K8S_OVERLAYS = join(ROOT, 'deploy/k8s/overlays');
const VALIDATOR = join(__dirname, 'validate-k8s.mjs');
const COMPOSE_SCHEMA = join(ROOT, 'node_modules/dclint/schemas/compose.schema.json');

/** The deployable apps (compose service = Deployment = image name) and what each reads. */
const APPS = {
  gateway: gatewayConfigSchema,
  intake: intakeConfigSchema,
  'routing-engine': routingEngineConfigSchema,
  communication: communicationConfigSchema,
  'export-worker': exportWorkerConfigSchema,
} satisfies Record<string, z.AnyZodObject>;
type App = keyof typeof APPS;
const APP_NAMES = Object.keys(APPS) as App[];
/** Apps under apps/ that are never deployed. */
const NOT_DEPLOYED = ['dev-idp', 'e2e'];
const AUTOSCALED: App[] = ['gateway', 'intake', 'export-worker'];
/** Development tools that must appear in no deployed object. */
const DEV_ONLY = ['dev-idp', 's3rver'];

const envOf = (app: App): string[] => Object.keys(APPS[app].shape).sort();
const MIGRATION_ENV = Object.keys(migrationConfigSchema.shape).sort();
const ALL_APP_ENV = new Set([...APP_NAMES.flatMap(envOf), ...MIGRATION_ENV]);
/** `routing-engine` -> `ROUTING_ENGINE_PORT` */
const portVar = (app: App): string => `${app.toUpperCase().replace(/-/g, '_')}_PORT`;

// ---- small helpers ------------------------------------------------------------------------

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const rel = (file: string): string => relative(ROOT, file);
const read = (file: string): string => readFileSync(file, 'utf8');

/** Every document of a YAML file as plain data (anchors and aliases resolved). */
function readYamlDocs(file: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of parseAllDocuments(read(file))) {
    if (doc.errors.length > 0) throw new Error(`${rel(file)}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function readYaml(file: string): Json {
  const value: unknown = parse(read(file), { merge: true });
  if (!isRecord(value)) throw new Error(`${rel(file)} is not a YAML mapping`);
  return value;
}

// ---- Kubernetes object shapes (only what the checks read; kubernetes-models checks the rest) --

type Labels = Record<string, string>;
interface KMeta {
  name: string;
  namespace?: string;
  labels?: Labels;
}
interface KObject {
  apiVersion: string;
  kind: string;
  metadata: KMeta;
  [field: string]: unknown;
}
interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string };
  secretRef?: { name: string };
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string }>;
  envFrom?: EnvFromSource[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
}
interface PodTemplate {
  metadata?: { labels?: Labels };
  spec: PodSpec;
}
interface Deployment extends KObject {
  spec: { replicas?: number; selector: { matchLabels?: Labels }; template: PodTemplate };
}
interface Job extends KObject {
  spec: { template: PodTemplate };
}
interface Service extends KObject {
  spec: { selector?: Labels; ports?: Array<{ name?: string; port: number; targetPort?: string | number }> };
}
interface Hpa extends KObject {
  spec: { scaleTargetRef: { kind: string; name: string }; minReplicas?: number; maxReplicas: number };
}
interface Pdb extends KObject {
  spec: { selector?: { matchLabels?: Labels } };
}
interface IngressBackend {
  service?: { name: string };
  resource?: unknown;
}
interface Ingress extends KObject {
  spec: {
    defaultBackend?: IngressBackend;
    rules?: Array<{ host?: string; http?: { paths: Array<{ backend: IngressBackend }> } }>;
    tls?: Array<{ hosts?: string[] }>;
  };
}
interface ConfigMap extends KObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}
interface Secret extends KObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

function toKObject(value: unknown, where: string): KObject {
  if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
    throw new Error(`${where}: not a Kubernetes object (apiVersion and kind)`);
  }
  if (!isRecord(value.metadata) || typeof value.metadata.name !== 'string') throw new Error(`${where}: no metadata.name`);
  return value as KObject;
}

const loadK8sFile = (file: string): KObject[] => readYamlDocs(file).map((doc, i) => toKObject(doc, `${rel(file)} document ${i}`));
const ofKind = <T extends KObject>(objects: KObject[], kind: string): T[] => objects.filter((o) => o.kind === kind) as T[];
const named = <T extends KObject>(objects: KObject[], kind: string, name: string): T | undefined =>
  ofKind<T>(objects, kind).find((o) => o.metadata.name === name);
/** matchLabels selects a pod with these labels (an empty selector selects nothing useful). */
const selects = (selector: Labels | undefined, labels: Labels | undefined): boolean =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The pod specs inside a workload object (Deployment, Job, CronJob, Pod, ...). */
function podSpecsOf(obj: KObject): PodSpec[] {
  const spec = obj.spec;
  if (!isRecord(spec)) return [];
  if (obj.kind === 'Pod') return [spec as unknown as PodSpec];
  const template =
    obj.kind === 'CronJob' && isRecord(spec.jobTemplate) && isRecord(spec.jobTemplate.spec)
      ? spec.jobTemplate.spec.template
      : spec.template;
  return isRecord(template) && isRecord(template.spec) ? [template.spec as unknown as PodSpec] : [];
}
const containersOf = (obj: KObject): Container[] => podSpecsOf(obj).flatMap((s) => [...(s.initContainers ?? []), ...s.containers]);
const mentionsDevTool = (obj: KObject): string[] => DEV_ONLY.filter((word) => JSON.stringify(obj).toLowerCase().includes(word));

// ---- validate-k8s.mjs -----------------------------------------------------------------------

interface ValidationReport {
  objects: Array<{ file: string; index: number; apiVersion?: string; kind?: string; name?: string; ok: boolean; errors?: string[] }>;
  failures: number;
}

/** Runs validate-k8s.mjs on the files. It exits 1 when an object is invalid, and still reports. */
function validateK8s(files: string[]): Promise<ValidationReport> {
  return new Promise((resolveReport, reject) => {
    execFile(process.execPath, [VALIDATOR, ...files], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && error.code !== 1) {
        reject(new Error(`validate-k8s.mjs failed (${String(error.code)}): ${error.message}\n${stderr}`));
        return;
      }
      try {
        resolveReport(JSON.parse(stdout) as ValidationReport);
      } catch (err) {
        reject(new Error(`validate-k8s.mjs printed no JSON report: ${String(err)}\n${stdout}\n${stderr}`));
      }
    });
  });
}
const failuresOf = (report: ValidationReport) => report.objects.filter((o) => !o.ok);

// ---- a small Kustomize subset (enough for deploy/k8s; refuses anything else) ----------------

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'images', 'replicas', 'patches']);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
]);
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

function kustomizationFile(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
}

/** Every local path a kustomization refers to (resources, patches, generators, ...). */
function referencedPaths(k: Json): string[] {
  const paths: string[] = [];
  const strings = (v: unknown) => asArray(v).filter((x): x is string => typeof x === 'string');
  paths.push(...strings(k.resources), ...strings(k.components), ...strings(k.crds), ...strings(k.patchesStrategicMerge));
  for (const p of [...asArray(k.patches), ...asArray(k.patchesJson6902)]) if (isRecord(p) && typeof p.path === 'string') paths.push(p.path);
  for (const g of [...asArray(k.configMapGenerator), ...asArray(k.secretGenerator)]) {
    if (!isRecord(g)) continue;
    paths.push(...strings(g.envs), ...strings(g.files).map((f) => f.replace(/^[^=]*=/, '')));
    if (typeof g.env === 'string') paths.push(g.env);
  }
  // remote resources (URLs) are not local files
  return paths.filter((p) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(p) && !p.startsWith('github.com/'));
}

class Unsupported extends Error {
  constructor(dir: string, what: string) {
    super(`${rel(dir)}: uses ${what}, which the Kustomize subset in tools/deploy/deploy.int-spec.ts does not implement; extend it there`);
  }
}

function renderKustomization(dir: string): KObject[] {
  const file = kustomizationFile(dir);
  if (!file) throw new Error(`${rel(dir)} has no kustomization.yaml`);
  const k = readYaml(file);
  for (const key of Object.keys(k)) if (!KUSTOMIZATION_FIELDS.has(key)) throw new Unsupported(dir, `\`${key}\``);

  let objects: KObject[] = [];
  for (const r of asArray(k.resources)) {
    if (typeof r !== 'string') throw new Unsupported(dir, 'a non-string resource');
    const path = resolve(dir, r);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : loadK8sFile(path)));
  }
  objects = structuredClone(objects);

  // Kustomize's order: patches, namespace, labels, replicas, images.
  for (const p of asArray(k.patches)) objects = applyPatch(dir, objects, p);
  if (typeof k.namespace === 'string') {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  for (const l of asArray(k.labels)) applyLabels(dir, objects, l);
  for (const r of asArray(k.replicas)) {
    if (!isRecord(r) || typeof r.name !== 'string' || typeof r.count !== 'number')
      throw new Unsupported(dir, 'a replicas entry without name/count');
    const targets = objects.filter((o) => ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind) && o.metadata.name === r.name);
    if (targets.length === 0) throw new Error(`${rel(dir)}: replicas for ${r.name}, which is no Deployment/StatefulSet/ReplicaSet`);
    for (const t of targets) (t.spec as Json).replicas = r.count;
  }
  for (const i of asArray(k.images)) applyImage(dir, objects, i);
  return objects;
}

function applyLabels(dir: string, objects: KObject[], entry: unknown): void {
  if (!isRecord(entry) || !isRecord(entry.pairs)) throw new Unsupported(dir, 'a labels entry without pairs');
  if (entry.includeSelectors === true) throw new Unsupported(dir, 'labels with includeSelectors: true');
  const pairs = entry.pairs as Labels;
  for (const o of objects) {
    o.metadata.labels = { ...o.metadata.labels, ...pairs };
    if (entry.includeTemplates !== true) continue;
    const spec = o.spec;
    const templates: unknown[] = [];
    if (isRecord(spec) && ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind)) templates.push(spec.template);
    if (isRecord(spec) && o.kind === 'CronJob' && isRecord(spec.jobTemplate)) {
      templates.push(spec.jobTemplate);
      if (isRecord(spec.jobTemplate.spec)) templates.push(spec.jobTemplate.spec.template);
    }
    for (const t of templates) {
      if (!isRecord(t)) continue;
      const meta = isRecord(t.metadata) ? t.metadata : (t.metadata = {});
      meta.labels = { ...(isRecord(meta.labels) ? meta.labels : {}), ...pairs };
    }
  }
}

/** `registry/dvd/x:1.2@sha256:...` -> name `registry/dvd/x` */
const imageName = (image: string): string => image.replace(/@.*$/, '').replace(/:[^:/]*$/, '');

function applyImage(dir: string, objects: KObject[], entry: unknown): void {
  if (!isRecord(entry) || typeof entry.name !== 'string') throw new Unsupported(dir, 'an images entry without name');
  const { name, newName, newTag, digest } = entry;
  let used = false;
  for (const c of objects.flatMap(containersOf)) {
    if (!c.image || imageName(c.image) !== name) continue;
    used = true;
    const tag = c.image.replace(/@.*$/, '').slice(name.length); // ":1.2" or ""
    const suffix = typeof digest === 'string' ? `@${digest}` : typeof newTag === 'string' ? `:${newTag}` : tag;
    c.image = `${typeof newName === 'string' ? newName : name}${suffix}`;
  }
  if (!used) throw new Error(`${rel(dir)}: images entry ${name} matches no container`);
}

function matchesTarget(dir: string, o: KObject, target: Json): boolean {
  for (const key of Object.keys(target)) {
    if (!['group', 'version', 'kind', 'name', 'namespace'].includes(key)) throw new Unsupported(dir, `a patch target with ${key}`);
  }
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const anchored = (pattern: unknown, value: string | undefined) =>
    typeof pattern !== 'string' || new RegExp(`^(?:${pattern})$`).test(value ?? '');
  return (
    anchored(target.group, group) &&
    anchored(target.version, version) &&
    anchored(target.kind, o.kind) &&
    anchored(target.name, o.metadata.name) &&
    anchored(target.namespace, o.metadata.namespace)
  );
}

function applyPatch(dir: string, objects: KObject[], entry: unknown): KObject[] {
  if (!isRecord(entry)) throw new Unsupported(dir, 'a non-mapping patch');
  if (entry.options !== undefined) throw new Unsupported(dir, 'patch options');
  const text = typeof entry.patch === 'string' ? entry.patch : typeof entry.path === 'string' ? read(resolve(dir, entry.path)) : undefined;
  if (text === undefined) throw new Unsupported(dir, 'a patch without patch or path');
  const body: unknown = parse(text, { merge: true });
  const target = isRecord(entry.target) ? entry.target : undefined;

  if (Array.isArray(body)) {
    if (!target) throw new Error(`${rel(dir)}: a JSON 6902 patch needs a target`);
    const matched = objects.filter((o) => matchesTarget(dir, o, target));
    if (matched.length === 0) throw new Error(`${rel(dir)}: patch target ${JSON.stringify(target)} matches nothing`);
    for (const o of matched) for (const op of body) applyJsonPatchOp(dir, o, op);
    return objects;
  }

  // strategic merge patch
  const patch = toKObject(body, `${rel(dir)} patch`);
  const matched = objects.filter((o) =>
    target
      ? matchesTarget(dir, o, target)
      : o.kind === patch.kind && o.apiVersion === patch.apiVersion && o.metadata.name === patch.metadata.name,
  );
  if (matched.length === 0) throw new Error(`${rel(dir)}: patch for ${patch.kind} ${patch.metadata.name} matches nothing`);
  if (patch.$patch === 'delete') return objects.filter((o) => !matched.includes(o));
  if (patch.$patch !== undefined) throw new Unsupported(dir, `$patch: ${String(patch.$patch)}`);
  for (const o of matched) {
    const merged = strategicMerge(dir, o, { ...patch, metadata: { ...patch.metadata, name: o.metadata.name } });
    Object.assign(o, merged);
  }
  return objects;
}

/** Strategic merge, simplified: maps merge, lists of named items merge by name, other lists are replaced. */
function strategicMerge(dir: string, base: unknown, patch: unknown): unknown {
  if (isRecord(patch) && '$patch' in patch) throw new Unsupported(dir, 'a nested $patch directive');
  if (isRecord(base) && isRecord(patch)) {
    const out: Json = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) throw new Unsupported(dir, `the directive ${key}`);
      if (value === null) delete out[key];
      else out[key] = key in base ? strategicMerge(dir, base[key], value) : value;
    }
    return out;
  }
  const namedList = (v: unknown): v is Json[] => Array.isArray(v) && v.every((x) => isRecord(x) && typeof x.name === 'string');
  if (namedList(base) && namedList(patch)) {
    const out = [...base];
    for (const item of patch) {
      const i = out.findIndex((b) => b.name === item.name);
      if (i >= 0) out[i] = strategicMerge(dir, out[i], item) as Json;
      else out.push(item);
    }
    return out;
  }
  return patch;
}

function applyJsonPatchOp(dir: string, obj: KObject, op: unknown): void {
  if (!isRecord(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw new Error(`${rel(dir)}: malformed JSON patch op`);
  const where = `${rel(dir)}: ${op.op} ${op.path} on ${obj.kind} ${obj.metadata.name}`;
  const tokens = op.path
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = tokens.pop();
  if (last === undefined) throw new Unsupported(dir, 'a JSON patch on the whole object');
  let parent: unknown = obj;
  for (const t of tokens) {
    parent = Array.isArray(parent) ? parent[Number(t)] : isRecord(parent) ? parent[t] : undefined;
    if (parent === undefined) throw new Error(`${where}: the path does not exist`);
  }
  const exists = Array.isArray(parent) ? Number(last) < parent.length : isRecord(parent) && last in parent;
  switch (op.op) {
    case 'add':
      if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
      else if (isRecord(parent)) parent[last] = op.value;
      else throw new Error(`${where}: the parent is not a mapping or list`);
      return;
    case 'replace':
    case 'remove':
    case 'test':
      if (!exists) throw new Error(`${where}: the path does not exist`);
      break;
    default:
      throw new Unsupported(dir, `the JSON patch op ${op.op}`);
  }
  if (op.op === 'test') {
    const current: unknown = Array.isArray(parent) ? parent[Number(last)] : (parent as Json)[last];
    if (JSON.stringify(current) !== JSON.stringify(op.value)) throw new Error(`${where}: test failed`);
  } else if (Array.isArray(parent)) {
    if (op.op === 'replace') parent[Number(last)] = op.value;
    else parent.splice(Number(last), 1);
  } else if (op.op === 'replace') (parent as Json)[last] = op.value;
  else delete (parent as Json)[last];
}

// ---- compose helpers ------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: string | { target?: string; args?: Record<string, string> | string[] };
  ports?: unknown[];
  network_mode?: string;
  environment?: Record<string, unknown> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
}

/** The variable names in a service's `environment` (mapping or `KEY=value` list form). */
function composeEnvKeys(service: ComposeService): string[] {
  const env = service.environment;
  if (Array.isArray(env)) return env.map((e) => e.split('=')[0]);
  return env ? Object.keys(env) : [];
}

// =============================================================================================

describe('deployment files', () => {
  it('cover every deployable app (a new app under apps/ needs a place here and in the deploy files)', () => {
    const deployable = readdirSync(join(ROOT, 'apps'))
      .filter((a) => existsSync(join(ROOT, 'apps', a, 'src/main.ts')) && !NOT_DEPLOYED.includes(a))
      .sort();
    expect(deployable).toEqual([...APP_NAMES].sort());
  });

  it('apps read the environment only through their config schemas', () => {
    // Otherwise the schemas would not be the whole list of variables this file checks.
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name)) {
          read(path)
            .split('\n')
            .forEach((line, i) => {
              const code = line.replace(/\/\/.*$/, '');
              if (!/process\.env\b/.test(code) || /^\s*\*/.test(code)) return;
              // the loader itself: loadConfig(schema, env = process.env)
              if (rel(path) === 'libs/platform/src/config/config.ts' && /export function loadConfig/.test(code)) return;
              offenders.push(`${rel(path)}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    for (const app of APP_NAMES) walk(join(ROOT, 'apps', app, 'src'));
    for (const lib of ['platform', 'contracts']) walk(join(ROOT, 'libs', lib, 'src'));
    expect(offenders).toEqual([]);
  });

  // ---- docker-compose.yml -------------------------------------------------------------------

  describe('docker-compose.yml', () => {
    const compose = readYaml(COMPOSE_FILE);
    const services = (isRecord(compose.services) ? compose.services : {}) as Record<string, ComposeService>;

    function composeValidator() {
      const schema = JSON.parse(read(COMPOSE_SCHEMA)) as Json;
      // The schema names draft-07 as "https://json-schema.org/draft-07/schema" (https, no
      // "#"), an id ajv does not know. Ajv's default class is draft-07 anyway.
      delete schema.$schema;
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      return ajv.compile(schema);
    }

    it('is valid against the Compose JSON schema', () => {
      const validate = composeValidator();
      const valid = validate(compose);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);

      // and the schema is not vacuous: a misspelt service key is rejected
      const broken = structuredClone(compose) as { services: Record<string, Json> };
      broken.services.gateway.healtcheck = {};
      expect(validate(broken)).toBe(false);
    });

    it('publishes ports for the gateway only', () => {
      const publishing = Object.entries(services)
        .filter(([, s]) => asArray(s.ports).length > 0 || s.network_mode === 'host')
        .map(([name]) => name);
      expect(publishing).toEqual(['gateway']);
    });

    it.each(APP_NAMES)('runs %s from the runtime image with a healthcheck', (app) => {
      const service = services[app];
      expect(service).toBeDefined();
      expect(service.build).toMatchObject({ target: 'runtime', args: { APP: app } });
      const test = service.healthcheck?.test;
      expect(service.healthcheck?.disable).not.toBe(true);
      expect(Array.isArray(test) ? test.join(' ') : test).toMatch(/\/health\/(ready|live)/);
    });

    it('has dev-idp as a development service only', () => {
      const devIdp = services['dev-idp'];
      expect(devIdp).toBeDefined();
      expect(devIdp.build).toMatchObject({ target: 'dev' });
      expect(devIdp.ports ?? []).toEqual([]);
      // nothing else is built from the dev target or runs the dev-idp image
      const others = Object.entries(services).filter(([name]) => name !== 'dev-idp');
      for (const [name, s] of others) {
        expect({ name, target: isRecord(s.build) ? s.build.target : undefined }).not.toEqual({ name, target: 'dev' });
        expect({ name, image: s.image ?? '' }).not.toEqual({ name, image: expect.stringContaining('dev-idp') as unknown });
      }
      expect(JSON.stringify(services).toLowerCase()).not.toContain('s3rver');
    });
  });

  // ---- Kubernetes ---------------------------------------------------------------------------

  describe('deploy/k8s', () => {
    const baseKustomization = readYaml(join(K8S_BASE, 'kustomization.yaml'));
    const baseFiles = readdirSync(K8S_BASE)
      .filter((f) => /\.ya?ml$/.test(f) && !KUSTOMIZATION_FILES.includes(f))
      .sort()
      .map((f) => join(K8S_BASE, f));
    const base = baseFiles.flatMap(loadK8sFile);
    const overlays = readdirSync(K8S_OVERLAYS)
      .filter((d) => statSync(join(K8S_OVERLAYS, d)).isDirectory())
      .sort();

    let scratch: string;
    beforeAll(() => {
      scratch = mkdtempSync(join(tmpdir(), 'dvd-deploy-'));
    });
    afterAll(() => {
      rmSync(scratch, { recursive: true, force: true });
    });

    it('base: the kustomization lists exactly the manifests in the folder', () => {
      const listed = asArray(baseKustomization.resources).map(String).sort();
      expect(listed).toEqual(baseFiles.map((f) => basename(f)));
    });

    it('base: every object is valid against the Kubernetes schemas', async () => {
      const report = await validateK8s(baseFiles);
      expect(failuresOf(report)).toEqual([]);
      expect(report.objects).toHaveLength(base.length);
    });

    it('the validator is not vacuous: it reports a schema error and an unknown kind', async () => {
      const bad = join(scratch, 'bad.yaml');
      writeFileSync(
        bad,
        stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: {} } } }) +
          '---\n' +
          stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'y' } }),
      );
      const report = await validateK8s([bad]);
      expect(report.failures).toBe(2);
      expect(report.objects.map((o) => o.errors?.join(' '))).toEqual([
        expect.stringContaining('containers'),
        expect.stringContaining('no model'),
      ]);
    });

    describe.each(APP_NAMES)('%s', (app) => {
      const deployment = named<Deployment>(base, 'Deployment', app);
      const podLabels = deployment?.spec.template.metadata?.labels;
      const container = deployment?.spec.template.spec.containers.find((c) => c.name === app);

      it('has a Deployment with readiness and liveness probes, requests and limits', () => {
        expect(deployment).toBeDefined();
        expect(selects(deployment?.spec.selector.matchLabels, podLabels)).toBe(true);
        expect(container).toBeDefined();
        expect(container?.image).toBe(`dvd/${app}`);
        expect(container?.readinessProbe?.httpGet?.path).toBe('/health/ready');
        expect(container?.livenessProbe?.httpGet?.path).toBe('/health/live');
        for (const kind of ['requests', 'limits'] as const) {
          expect(container?.resources?.[kind]).toEqual(
            expect.objectContaining({ cpu: expect.anything() as unknown, memory: expect.anything() as unknown }),
          );
        }
        // the probes and the container port are the port the app listens on (its *_PORT)
        const configMap = named<ConfigMap>(base, 'ConfigMap', 'dvd-config');
        const port = container?.ports?.find((p) => p.name === 'http');
        expect(String(port?.containerPort)).toBe(configMap?.data?.[portVar(app)]);
        for (const probe of [container?.readinessProbe, container?.livenessProbe]) {
          expect([port?.name, port?.containerPort]).toContain(probe?.httpGet?.port);
        }
      });

      it('has a Service that selects its pods', () => {
        const service = named<Service>(base, 'Service', app);
        expect(service).toBeDefined();
        expect(selects(service?.spec.selector, podLabels)).toBe(true);
        const http = container?.ports?.find((p) => p.name === 'http');
        for (const p of service?.spec.ports ?? []) expect([http?.name, http?.containerPort]).toContain(p.targetPort ?? p.port);
      });

      it('has a PodDisruptionBudget that selects its pods', () => {
        const pdb = ofKind<Pdb>(base, 'PodDisruptionBudget').filter((p) => selects(p.spec.selector?.matchLabels, podLabels));
        expect(pdb).toHaveLength(1);
      });

      it(AUTOSCALED.includes(app) ? 'has a HorizontalPodAutoscaler and no fixed replicas' : 'has no autoscaler', () => {
        const hpas = ofKind<Hpa>(base, 'HorizontalPodAutoscaler').filter(
          (h) => h.apiVersion === 'autoscaling/v2' && h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === app,
        );
        if (AUTOSCALED.includes(app)) {
          expect(hpas).toHaveLength(1);
          expect(deployment?.spec.replicas).toBeUndefined();
        } else {
          expect(hpas).toHaveLength(0);
        }
      });
    });

    it('has a migration Job for every app with a database', () => {
      const migrating = APP_NAMES.filter((app) => 'DATABASE_URL' in APPS[app].shape);
      const steps = ofKind<Job>(base, 'Job')
        .flatMap(containersOf)
        .filter((c) => [...(c.command ?? []), ...(c.args ?? [])].includes('migrate'));
      expect(steps.map((c) => c.image).sort()).toEqual(migrating.map((app) => `dvd/${app}`).sort());
    });

    it('has exactly one Ingress, and it routes to the gateway only', () => {
      const ingresses = ofKind<Ingress>(base, 'Ingress');
      expect(ingresses).toHaveLength(1);
      const spec = ingresses[0].spec;
      const backends = [spec.defaultBackend, ...(spec.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend))].filter(
        (b): b is IngressBackend => b !== undefined,
      );
      expect(backends.length).toBeGreaterThan(0);
      expect(backends.map((b) => b.service?.name)).toEqual(backends.map(() => 'gateway'));
    });

    it('mentions no development tool (dev-idp, s3rver) in any object', () => {
      expect(base.flatMap((o) => mentionsDevTool(o).map((w) => `${o.kind} ${o.metadata.name}: ${w}`))).toEqual([]);
    });

    describe.each(overlays)('overlay %s', (overlay) => {
      const dir = join(K8S_OVERLAYS, overlay);

      it('refers only to paths that exist', () => {
        const file = kustomizationFile(dir);
        expect(file).toBeDefined();
        const missing = referencedPaths(readYaml(file ?? '')).filter((p) => {
          const path = resolve(dir, p);
          if (!existsSync(path)) return true;
          return statSync(path).isDirectory() && kustomizationFile(path) === undefined;
        });
        expect(missing).toEqual([]);
      });

      it('renders to valid objects: namespaced, pinned images, no Secret template, no dev tools', async () => {
        const rendered = renderKustomization(dir);
        const file = join(scratch, `${overlay}.yaml`);
        writeFileSync(file, rendered.map((o) => stringify(o)).join('---\n'));
        const report = await validateK8s([file]);
        expect(failuresOf(report)).toEqual([]);
        expect(report.objects).toHaveLength(rendered.length);

        expect(rendered.filter((o) => !o.metadata.namespace).map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
        // the real Secret is created outside git; an apply must never overwrite it with placeholders
        expect(ofKind(rendered, 'Secret')).toEqual([]);
        for (const c of rendered.flatMap(containersOf)) {
          // a registry, and a fixed tag or digest (never latest, never the bare base name)
          expect(c.image).toMatch(/^[^/]+\.[^/]+\/.+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/);
          expect(c.image).not.toMatch(/:latest$/);
        }
        for (const app of AUTOSCALED) expect(named<Deployment>(rendered, 'Deployment', app)?.spec.replicas).toBeUndefined();
        for (const hpa of ofKind<Hpa>(rendered, 'HorizontalPodAutoscaler')) {
          expect(hpa.spec.minReplicas ?? 1).toBeLessThanOrEqual(hpa.spec.maxReplicas);
        }
        const ingresses = ofKind<Ingress>(rendered, 'Ingress');
        expect(ingresses).toHaveLength(1);
        const hosts = (ingresses[0].spec.rules ?? []).map((r) => r.host);
        expect(hosts.every((h) => h && !h.endsWith('.invalid'))).toBe(true);
        expect((ingresses[0].spec.tls ?? []).flatMap((t) => t.hosts ?? []).sort()).toEqual([...hosts].sort());
        expect(rendered.flatMap((o) => mentionsDevTool(o).map((w) => `${o.kind} ${o.metadata.name}: ${w}`))).toEqual([]);
      });
    });
  });

  // ---- environment variables ------------------------------------------------------------------

  /*
   * Every variable an app's config schema has must be in .env.example (documented), in the
   * app's docker-compose service and in its Kubernetes configuration. That includes the ones
   * whose default is right (BIND_HOST, ports, REDIS_KEY_PREFIX, NODE_ENV, ...): the deploy
   * files list them explicitly, so that each shows the whole configuration of a service and a
   * new variable cannot be forgotten silently. Adding a variable to a schema therefore means
   * adding it to .env.example, docker-compose.yml and deploy/k8s/base/configmap.yaml (or the
   * Secret template, for credentials). The list comes from the schemas, never from here.
   *
   * The Kubernetes check reads the base: the Secret template (base/secret.yaml) lists the
   * Secret's keys, although the overlays drop it and the real Secret is created outside git.
   */
  describe('environment variables', () => {
    const documented = new Set([...read(ENV_EXAMPLE).matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    const services = readYaml(COMPOSE_FILE).services as Record<string, ComposeService>;
    const base = readdirSync(K8S_BASE)
      .filter((f) => /\.ya?ml$/.test(f) && !KUSTOMIZATION_FILES.includes(f))
      .flatMap((f) => loadK8sFile(join(K8S_BASE, f)));

    /** The variables a container gets: env entries and the keys of its envFrom ConfigMaps/Secrets. */
    function k8sEnvKeys(container: Container): string[] {
      const keys = (container.env ?? []).map((e) => e.name);
      for (const from of container.envFrom ?? []) {
        const prefix = from.prefix ?? '';
        if (from.configMapRef) {
          const cm = named<ConfigMap>(base, 'ConfigMap', from.configMapRef.name);
          if (!cm) throw new Error(`container ${container.name}: no ConfigMap ${from.configMapRef.name} in the base`);
          keys.push(...Object.keys({ ...cm.data, ...cm.binaryData }).map((k) => prefix + k));
        }
        if (from.secretRef) {
          const secret = named<Secret>(base, 'Secret', from.secretRef.name);
          if (!secret) throw new Error(`container ${container.name}: no Secret ${from.secretRef.name} in the base`);
          keys.push(...Object.keys({ ...secret.data, ...secret.stringData }).map((k) => prefix + k));
        }
      }
      return keys;
    }

    it.each(APP_NAMES)('%s: every variable it reads is in .env.example, docker-compose.yml and deploy/k8s', (app) => {
      const vars = envOf(app);
      expect(vars.length).toBeGreaterThan(0);

      expect({ app, missingIn: '.env.example', vars: vars.filter((v) => !documented.has(v)) }).toEqual({
        app,
        missingIn: '.env.example',
        vars: [],
      });

      const compose = new Set(composeEnvKeys(services[app]));
      expect({ app, missingIn: 'docker-compose.yml', vars: vars.filter((v) => !compose.has(v)) }).toEqual({
        app,
        missingIn: 'docker-compose.yml',
        vars: [],
      });

      const container = named<Deployment>(base, 'Deployment', app)?.spec.template.spec.containers.find((c) => c.name === app);
      expect(container).toBeDefined();
      const k8s = new Set(container ? k8sEnvKeys(container) : []);
      expect({ app, missingIn: 'deploy/k8s', vars: vars.filter((v) => !k8s.has(v)) }).toEqual({ app, missingIn: 'deploy/k8s', vars: [] });
    });

    it('the migration Job gets every variable `main.js migrate` reads', () => {
      const steps = ofKind<Job>(base, 'Job')
        .flatMap(containersOf)
        .filter((c) => [...(c.command ?? []), ...(c.args ?? [])].includes('migrate'));
      expect(steps.length).toBeGreaterThan(0);
      for (const c of steps) {
        const keys = new Set(k8sEnvKeys(c));
        expect({ container: c.name, missing: MIGRATION_ENV.filter((v) => !keys.has(v)) }).toEqual({ container: c.name, missing: [] });
      }
    });

    // The other direction catches typos and leftovers: a variable set for an app that it
    // does not read has no effect.
    it.each(APP_NAMES)('%s: docker-compose.yml sets no variable the app does not read', (app) => {
      const reads = new Set(envOf(app));
      expect(composeEnvKeys(services[app]).filter((v) => !reads.has(v))).toEqual([]);
    });

    it('deploy/k8s: every ConfigMap and Secret key is read by some app', () => {
      const keys = [
        ...ofKind<ConfigMap>(base, 'ConfigMap').flatMap((cm) => Object.keys({ ...cm.data, ...cm.binaryData })),
        ...ofKind<Secret>(base, 'Secret').flatMap((s) => Object.keys({ ...s.data, ...s.stringData })),
      ];
      expect(keys.filter((k) => !ALL_APP_ENV.has(k))).toEqual([]);
    });
  });

  // ---- Dockerfile -----------------------------------------------------------------------------

  describe('deploy/Dockerfile', () => {
    // Instructions of the last stage (the default build target), continuation lines joined.
    const instructions = read(DOCKERFILE)
      .replace(/\\\r?\n/g, ' ')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const lastFrom = instructions.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
    const finalStage = instructions.slice(lastFrom);

    it('the final stage is the service image, built from the app alone', () => {
      expect(lastFrom).toBeGreaterThanOrEqual(0);
      expect(finalStage[0]).toMatch(/\bAS\s+runtime$/i);
      const copies = finalStage.filter((l) => /^(COPY|ADD)\s/i.test(l));
      expect(copies.length).toBeGreaterThan(0);
      expect(copies.filter((l) => /dev-idp|s3rver|--from=dev\b/i.test(l))).toEqual([]);
      // no whole-tree copy that would bring dev-idp along
      expect(copies.filter((l) => /\s(\/app\/)?dist\/?\s|\s\.\s+\.\/?$/.test(l))).toEqual([]);
    });

    it('the final stage runs as a non-root USER and has a HEALTHCHECK', () => {
      const users = finalStage.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]);
      expect(users.length).toBeGreaterThan(0);
      expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
      const healthchecks = finalStage.filter((l) => /^HEALTHCHECK\s/i.test(l));
      expect(healthchecks).toHaveLength(1);
      expect(healthchecks[0]).not.toMatch(/\sNONE$/i);
      expect(healthchecks[0]).toContain('/health/live');
    });
  });
});
