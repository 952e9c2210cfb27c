/** The Kubernetes object shapes the deployment checks read (kubernetes-models checks the rest), and validate-k8s.mjs. */
import { execFile } from 'node:child_process';
import ipaddr from 'ipaddr.js';
import { parseAllDocuments } from 'yaml';
import { DEV_ONLY, ROOT, VALIDATOR } from './deploy-inputs';
import { Json, rel, readYamlDocs, isRecord } from './yaml-files';

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

// ---- custom resources, NetworkPolicies and the edge -----------------------------------------

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}
export interface ServiceMonitor extends KObject {
  spec: { selector: { matchLabels?: Labels }; endpoints: Array<{ port?: string; path?: string }> };
}
export interface PrometheusRule extends KObject {
  spec: {
    groups: Array<{
      name: string;
      rules: Array<{ alert?: string; record?: string; expr: string; labels?: Labels; annotations?: Record<string, string> }>;
    }>;
  };
}
export interface Middleware extends KObject {
  spec: { inFlightReq?: { amount?: number; sourceCriterion?: { ipStrategy?: unknown } }; rateLimit?: unknown };
}
export interface IpBlock {
  cidr: string;
  except?: string[];
}
export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IpBlock;
}
export interface NetworkPolicyPort {
  protocol?: string;
  port?: number | string;
}
export interface NetworkPolicy extends KObject {
  spec: {
    podSelector: LabelSelector;
    policyTypes?: string[];
    ingress?: Array<{ from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }>;
    egress?: Array<{ to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }>;
  };
}
export interface HttpRoute extends KObject {
  spec: {
    hostnames?: string[];
    rules?: Array<{
      matches?: Array<{ path?: { type?: string; value?: string } }>;
      filters?: Array<{ type: string; extensionRef?: { group: string; kind: string; name: string } }>;
      timeouts?: { request?: string; backendRequest?: string };
      backendRefs?: Array<{ name: string; port?: number }>;
    }>;
  };
}

export const isEmptySelector = (s: LabelSelector | undefined): boolean =>
  !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);

/** A label selector (matchLabels and In/NotIn/Exists/DoesNotExist expressions) matches these labels. */
export function selectsPod(s: LabelSelector | undefined, labels: Labels): boolean {
  if (!s) return false;
  const plain = Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const expressions = (s.matchExpressions ?? []).every((e) => {
    const v = labels[e.key];
    if (e.operator === 'In') return v !== undefined && (e.values ?? []).includes(v);
    if (e.operator === 'NotIn') return v === undefined || !(e.values ?? []).includes(v);
    if (e.operator === 'Exists') return v !== undefined;
    if (e.operator === 'DoesNotExist') return v === undefined;
    throw new Error(`selector operator ${e.operator}`);
  });
  return plain && expressions;
}

/** The labels of a workload's pods. */
export function podLabelsOf(obj: KObject): Labels {
  const spec = obj.spec;
  if (!isRecord(spec)) return {};
  const template =
    obj.kind === 'CronJob' && isRecord(spec.jobTemplate) && isRecord(spec.jobTemplate.spec)
      ? spec.jobTemplate.spec.template
      : spec.template;
  return (isRecord(template) && isRecord(template.metadata) ? (template.metadata.labels as Labels) : undefined) ?? {};
}

/** Every Secret a workload's pods read: envFrom, env valueFrom (with its key) and secret volumes. */
export function secretRefsOf(obj: KObject): Array<{ secret: string; key?: string }> {
  const refs: Array<{ secret: string; key?: string }> = [];
  for (const spec of podSpecsOf(obj)) {
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const from of c.envFrom ?? []) if (from.secretRef) refs.push({ secret: from.secretRef.name });
      for (const e of (c.env ?? []) as Array<{ valueFrom?: { secretKeyRef?: { name: string; key: string } } }>) {
        if (e.valueFrom?.secretKeyRef) refs.push({ secret: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key });
      }
    }
    for (const v of ((spec as unknown as Json).volumes ?? []) as Array<{ secret?: { secretName: string } }>) {
      if (v.secret) refs.push({ secret: v.secret.secretName });
    }
  }
  return refs;
}

/** An ipBlock lets this address through (in its CIDR, in none of its exceptions). */
export function allows(block: IpBlock, address: string): boolean {
  const ip = ipaddr.parse(address);
  const inside = (cidr: string) => {
    const [range, bits] = ipaddr.parseCIDR(cidr);
    return range.kind() === ip.kind() && ip.match(range, bits);
  };
  return inside(block.cidr) && !(block.except ?? []).some(inside);
}

/** A route of the edge, whichever API expresses it (Ingress or Gateway API HTTPRoute). */
export interface EdgeRoute {
  path: string;
  pathType: 'Exact' | 'Prefix';
  service: string;
  port: string | number;
  /** The route's own request timeout (HTTPRoute timeouts.request), in seconds. */
  timeoutS?: number;
  /** The Traefik middlewares on the route. */
  middlewares: string[];
}

/** `20m`, `1200s`, `1h30m` -> seconds (Go durations as Gateway API and Traefik write them). */
export function seconds(duration: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.map((p) => p[0]).join('') !== duration) throw new Error(`not a duration: ${duration}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}

/**
 * The edge of a rendered overlay: one HTTPRoute, or Ingresses (each one rule, all for the
 * same host; several only where a path needs middlewares of its own), its host(s) and routes.
 */
export function edgeOf(objects: KObject[]): { kind: string; hosts: string[]; routes: EdgeRoute[] } {
  const ingresses = ofKind<Ingress>(objects, 'Ingress');
  const routes = ofKind<HttpRoute>(objects, 'HTTPRoute');
  if (ingresses.length > 0 === routes.length > 0 || routes.length > 1)
    throw new Error(`expected Ingresses or one HTTPRoute, found ${ingresses.length} Ingresses and ${routes.length} HTTPRoutes`);
  if (ingresses.length > 0) {
    const hosts = new Set<string>();
    const all: EdgeRoute[] = [];
    for (const ingress of ingresses) {
      const spec = ingress.spec;
      const name = ingress.metadata.name;
      if (spec.defaultBackend) throw new Error(`the Ingress ${name} has a default backend`);
      if ((spec.rules ?? []).length !== 1) throw new Error(`the Ingress ${name} has other than one rule`);
      const annotations = (ingress.metadata as KMeta & { annotations?: Record<string, string> }).annotations ?? {};
      const middlewares = (annotations['traefik.ingress.kubernetes.io/router.middlewares'] ?? '')
        .split(',')
        .filter(Boolean)
        .map((m) => m.replace(/@kubernetescrd$/, '').replace(`${ingress.metadata.namespace ?? ''}-`, ''));
      const tlsHosts = (spec.tls ?? []).flatMap((t) => t.hosts ?? []);
      const ruleHosts = (spec.rules ?? []).map((r) => r.host ?? '');
      if (JSON.stringify([...tlsHosts].sort()) !== JSON.stringify([...ruleHosts].sort()))
        throw new Error(`the Ingress ${name} serves a host without TLS`);
      for (const h of ruleHosts) hosts.add(h);
      all.push(
        ...(spec.rules ?? []).flatMap((r) =>
          (r.http?.paths ?? []).map((p): EdgeRoute => {
            if (p.pathType !== 'Exact' && p.pathType !== 'Prefix') throw new Error(`pathType ${p.pathType} of ${p.path}`);
            return {
              path: p.path ?? '/',
              pathType: p.pathType,
              service: p.backend.service?.name ?? '',
              port: p.backend.service?.port?.name ?? p.backend.service?.port?.number ?? '',
              middlewares,
            };
          }),
        ),
      );
    }
    const key = (r: EdgeRoute) => `${r.pathType} ${r.path}`;
    const twice = all.filter((r, i) => all.findIndex((o) => key(o) === key(r)) !== i);
    if (twice.length) throw new Error(`paths in more than one Ingress: ${twice.map(key).join(', ')}`);
    return { kind: 'Ingress', hosts: [...hosts], routes: all };
  }
  const spec = routes[0].spec;
  return {
    kind: 'HTTPRoute',
    hosts: spec.hostnames ?? [],
    routes: (spec.rules ?? []).flatMap((rule) => {
      const backends = rule.backendRefs ?? [];
      if (backends.length !== 1) throw new Error('an HTTPRoute rule with other than one backend');
      const middlewares = (rule.filters ?? []).flatMap((f) =>
        f.type === 'ExtensionRef' && f.extensionRef?.kind === 'Middleware' ? [f.extensionRef.name] : [],
      );
      return (rule.matches ?? [{ path: { type: 'PathPrefix', value: '/' } }]).map((m) => {
        const type = m.path?.type ?? 'PathPrefix';
        if (type !== 'Exact' && type !== 'PathPrefix') throw new Error(`path match type ${type}`);
        return {
          path: m.path?.value ?? '/',
          pathType: type === 'Exact' ? ('Exact' as const) : ('Prefix' as const),
          service: backends[0].name,
          port: backends[0].port ?? '',
          timeoutS: rule.timeouts?.request ? seconds(rule.timeouts.request) : undefined,
          middlewares,
        };
      });
    }),
  };
}

/** The route a request path takes: Exact first, else the longest element-wise Prefix (Ingress and Gateway API agree here). */
export function edgeRouteFor(routes: EdgeRoute[], requestPath: string): EdgeRoute | undefined {
  const paths: Array<IngressPath & { route: EdgeRoute }> = routes.map((r) => ({
    path: r.path,
    pathType: r.pathType,
    backend: { service: { name: r.service } },
    route: r,
  }));
  return (ingressPathFor(paths, requestPath) as (IngressPath & { route: EdgeRoute }) | undefined)?.route;
}

/** `kubectl kustomize DIR` parsed, or null where kubectl is not installed. */
export function kubectlKustomize(dir: string): Promise<KObject[] | null> {
  return new Promise((resolveObjects, reject) => {
    execFile('kubectl', ['kustomize', dir], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return resolveObjects(null);
      if (error) return reject(new Error(`kubectl kustomize ${rel(dir)} failed: ${stderr}`));
      resolveObjects(
        parseAllDocuments(stdout)
          .map((d) => d.toJS({ maxAliasCount: -1 }) as unknown)
          .filter((o) => o !== null)
          .map((o, i) => toKObject(o, `kubectl kustomize ${rel(dir)} document ${i}`)),
      );
    });
  });
}
