/** The Kubernetes object shapes the deployment checks read (kubernetes-models checks the rest), and validate-k8s.mjs. */
import { execFile } from 'node:child_process';
import { DEV_ONLY, ROOT, VALIDATOR } from './deploy-inputs';
import { rel, readYamlDocs, isRecord } from './yaml-files';

// ---- Kubernetes object shapes (only what the checks read; kubernetes-models checks the rest) --

export type Labels = Record<string, string>;
export interface KMeta {
  name: string;
  namespace?: string;
  labels?: Labels;
}
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: KMeta;
  [field: string]: unknown;
}
export interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string };
  secretRef?: { name: string };
}
export interface Container {
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
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
}
export interface PodTemplate {
  metadata?: { labels?: Labels };
  spec: PodSpec;
}
export interface Deployment extends KObject {
  spec: { replicas?: number; selector: { matchLabels?: Labels }; template: PodTemplate };
}
export interface Job extends KObject {
  spec: { template: PodTemplate };
}
export interface Service extends KObject {
  spec: { selector?: Labels; ports?: Array<{ name?: string; port: number; targetPort?: string | number }> };
}
export interface Hpa extends KObject {
  spec: { scaleTargetRef: { kind: string; name: string }; minReplicas?: number; maxReplicas: number };
}
export interface Pdb extends KObject {
  spec: { selector?: { matchLabels?: Labels } };
}
export interface IngressBackend {
  service?: { name: string; port?: { name?: string; number?: number } };
  resource?: unknown;
}
export interface IngressPath {
  path?: string;
  pathType?: string;
  backend: IngressBackend;
}
export interface Ingress extends KObject {
  spec: {
    defaultBackend?: IngressBackend;
    rules?: Array<{ host?: string; http?: { paths: IngressPath[] } }>;
    tls?: Array<{ hosts?: string[] }>;
  };
}

/**
 * The path of a rule that takes a request path, as the Ingress API defines matching: an
 * Exact path first, else the longest Prefix path that matches element-wise (`/api`
 * matches `/api` and `/api/v1`, not `/apis`). `ImplementationSpecific` is refused: its
 * meaning is the controller's.
 */
export function ingressPathFor(paths: IngressPath[], requestPath: string): IngressPath | undefined {
  for (const p of paths) if (p.pathType !== 'Exact' && p.pathType !== 'Prefix') throw new Error(`pathType ${p.pathType} of ${p.path}`);
  const exact = paths.find((p) => p.pathType === 'Exact' && p.path === requestPath);
  if (exact) return exact;
  const segments = (path: string) => path.split('/').filter(Boolean);
  const request = segments(requestPath);
  return paths
    .filter((p) => p.pathType === 'Prefix')
    .filter((p) => segments(p.path ?? '/').every((s, i) => request[i] === s))
    .sort((a, b) => segments(b.path ?? '/').length - segments(a.path ?? '/').length)[0];
}
export interface ConfigMap extends KObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}
export interface Secret extends KObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export function toKObject(value: unknown, where: string): KObject {
  if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
    throw new Error(`${where}: not a Kubernetes object (apiVersion and kind)`);
  }
  if (!isRecord(value.metadata) || typeof value.metadata.name !== 'string') throw new Error(`${where}: no metadata.name`);
  return value as KObject;
}

export const loadK8sFile = (file: string): KObject[] => readYamlDocs(file).map((doc, i) => toKObject(doc, `${rel(file)} document ${i}`));
export const ofKind = <T extends KObject>(objects: KObject[], kind: string): T[] => objects.filter((o) => o.kind === kind) as T[];
export const named = <T extends KObject>(objects: KObject[], kind: string, name: string): T | undefined =>
  ofKind<T>(objects, kind).find((o) => o.metadata.name === name);
/** matchLabels selects a pod with these labels (an empty selector selects nothing useful). */
export const selects = (selector: Labels | undefined, labels: Labels | undefined): boolean =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The pod specs inside a workload object (Deployment, Job, CronJob, Pod, ...). */
export function podSpecsOf(obj: KObject): PodSpec[] {
  const spec = obj.spec;
  if (!isRecord(spec)) return [];
  if (obj.kind === 'Pod') return [spec as unknown as PodSpec];
  const template =
    obj.kind === 'CronJob' && isRecord(spec.jobTemplate) && isRecord(spec.jobTemplate.spec)
      ? spec.jobTemplate.spec.template
      : spec.template;
  return isRecord(template) && isRecord(template.spec) ? [template.spec as unknown as PodSpec] : [];
}
export const containersOf = (obj: KObject): Container[] => podSpecsOf(obj).flatMap((s) => [...(s.initContainers ?? []), ...s.containers]);
export const mentionsDevTool = (obj: KObject): string[] => DEV_ONLY.filter((word) => JSON.stringify(obj).toLowerCase().includes(word));

// ---- validate-k8s.mjs -----------------------------------------------------------------------

export interface ValidationReport {
  objects: Array<{ file: string; index: number; apiVersion?: string; kind?: string; name?: string; ok: boolean; errors?: string[] }>;
  failures: number;
}

/** Runs validate-k8s.mjs on the files. It exits 1 when an object is invalid, and still reports. */
export function validateK8s(files: string[]): Promise<ValidationReport> {
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
export const failuresOf = (report: ValidationReport) => report.objects.filter((o) => !o.ok);
