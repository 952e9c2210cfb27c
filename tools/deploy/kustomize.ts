/** A small Kustomize subset (enough for deploy/k8s; refuses anything else), to render the overlays offline. */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { Json, asArray, isRecord, read, readYaml, rel } from './yaml-files';
import { KObject, Labels, containersOf, loadK8sFile, toKObject } from './k8s-objects';

// ---- a small Kustomize subset (enough for deploy/k8s; refuses anything else) ----------------

export const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'labels',
  'resources',
  'configMapGenerator',
  'images',
  'replicas',
  'patches',
]);
export const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
]);
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export function kustomizationFile(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
}

/** Every local path a kustomization refers to (resources, patches, generators, ...). */
export function referencedPaths(k: Json): string[] {
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

export class Unsupported extends Error {
  constructor(dir: string, what: string) {
    super(`${rel(dir)}: uses ${what}, which the Kustomize subset in tools/deploy/kustomize.ts does not implement; extend it there`);
  }
}

export function renderKustomization(dir: string): KObject[] {
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
  for (const g of asArray(k.configMapGenerator)) objects.push(generateConfigMap(dir, g));
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

/**
 * A configMapGenerator entry with `files` (key = file name, or `key=path`), `options.labels`
 * and `options.disableNameSuffixHash: true` (the name hash is Kustomize's own; not implemented).
 */
export function generateConfigMap(dir: string, entry: unknown): KObject {
  if (!isRecord(entry) || typeof entry.name !== 'string') throw new Unsupported(dir, 'a configMapGenerator entry without name');
  for (const key of Object.keys(entry)) {
    if (!['name', 'files', 'options'].includes(key)) throw new Unsupported(dir, `configMapGenerator with ${key}`);
  }
  const options = isRecord(entry.options) ? entry.options : {};
  for (const key of Object.keys(options)) {
    if (!['labels', 'disableNameSuffixHash'].includes(key)) throw new Unsupported(dir, `configMapGenerator options.${key}`);
  }
  if (options.disableNameSuffixHash !== true) throw new Unsupported(dir, 'configMapGenerator without options.disableNameSuffixHash: true');
  const data: Record<string, string> = {};
  for (const f of asArray(entry.files)) {
    if (typeof f !== 'string') throw new Unsupported(dir, 'a non-string configMapGenerator file');
    const [key, path] = f.includes('=') ? [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] : [basename(f), f];
    data[key] = read(resolve(dir, path));
  }
  const labels = isRecord(options.labels) ? (options.labels as Labels) : undefined;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: entry.name, ...(labels ? { labels } : {}) }, data };
}

export function applyLabels(dir: string, objects: KObject[], entry: unknown): void {
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
export const imageName = (image: string): string => image.replace(/@.*$/, '').replace(/:[^:/]*$/, '');

export function applyImage(dir: string, objects: KObject[], entry: unknown): void {
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

export function matchesTarget(dir: string, o: KObject, target: Json): boolean {
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

export function applyPatch(dir: string, objects: KObject[], entry: unknown): KObject[] {
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
export function strategicMerge(dir: string, base: unknown, patch: unknown): unknown {
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

export function applyJsonPatchOp(dir: string, obj: KObject, op: unknown): void {
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
