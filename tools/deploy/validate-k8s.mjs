#!/usr/bin/env node
// Validates Kubernetes manifests offline against the Kubernetes OpenAPI schemas, with the
// npm package kubernetes-models (ESM-only, hence this small script; the jest test in
// deploy.int-spec.ts runs it as a child process), and the custom resources we use against
// their CRDs' schemas (@kubernetes-models/prometheus-operator, gateway-api, traefik).
//
//   node tools/deploy/validate-k8s.mjs deploy/k8s/base/*.yaml
//
// Every YAML document of every file is one object. The model class is picked from
// apiVersion and kind (`apps/v1` + `Deployment` -> kubernetes-models/apps/v1 -> Deployment),
// so any built-in kind works; an apiVersion/kind kubernetes-models does not know (a CRD,
// a typo) is a failure. kustomization.yaml files are not Kubernetes objects: don't pass them.
//
// Prints one JSON object on stdout:
//   { "objects": [{ file, index, apiVersion, kind, name, ok, errors? }], "failures": <n> }
// and exits 0 when every object is valid, 1 when any is invalid, 2 on a usage error.
// `.validate()` checks types, enums and required fields; it does NOT reject unknown fields.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: validate-k8s.mjs <file.yaml>...\n');
  process.exit(2);
}

/** apiVersion -> the module's exports (or null when kubernetes-models has no such group/version). */
const modules = new Map();

/**
 * Custom resources the deploy files use, validated against the CRDs' own OpenAPI schemas as
 * published in the same family of packages: the Prometheus Operator's (ServiceMonitor,
 * PrometheusRule), the Gateway API's (Gateway, HTTPRoute) and Traefik's (Middleware).
 */
const CRD_PACKAGES = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
  'traefik.io': '@kubernetes-models/traefik',
};

function modulePath(apiVersion) {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  // core group "v1" -> kubernetes-models/v1; "apps/v1" -> kubernetes-models/apps/v1
  return CRD_PACKAGES[group] ? `${CRD_PACKAGES[group]}/${apiVersion}` : `kubernetes-models/${apiVersion}`;
}

async function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[a-z0-9.-]+(\/[a-z0-9]+)?$/.test(apiVersion)) return null;
  if (!modules.has(apiVersion)) {
    modules.set(apiVersion, await import(modulePath(apiVersion)).catch(() => null));
  }
  const mod = modules.get(apiVersion);
  const cls = mod?.[kind];
  return typeof cls === 'function' && typeof cls.prototype?.validate === 'function' ? cls : null;
}

function describe(err) {
  if (Array.isArray(err?.errors) && err.errors.length > 0) {
    return err.errors.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ' ' + JSON.stringify(e.params) : ''}`.trim());
  }
  return [err instanceof Error ? err.message : String(err)];
}

const objects = [];
for (const file of files) {
  let docs;
  try {
    docs = parseAllDocuments(readFileSync(file, 'utf8'));
  } catch (err) {
    objects.push({ file, index: -1, ok: false, errors: [`cannot read: ${err instanceof Error ? err.message : String(err)}`] });
    continue;
  }
  // A single (non-stream) parse result is a Document; normalise to an array.
  const list = Array.isArray(docs) ? docs : [docs];
  for (const [index, doc] of list.entries()) {
    const entry = { file, index };
    if (doc.errors.length > 0) {
      objects.push({ ...entry, ok: false, errors: doc.errors.map((e) => `YAML: ${e.message}`) });
      continue;
    }
    const obj = doc.toJS({ maxAliasCount: -1 });
    if (obj === null || obj === undefined) continue; // empty document (e.g. a trailing ---)
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      objects.push({ ...entry, ok: false, errors: ['not a Kubernetes object (a YAML mapping)'] });
      continue;
    }
    const { apiVersion, kind } = obj;
    Object.assign(entry, { apiVersion, kind, name: obj.metadata?.name });
    const Model = await modelClass(apiVersion, kind);
    if (!Model) {
      objects.push({
        ...entry,
        ok: false,
        errors: [`kubernetes-models has no model for apiVersion ${String(apiVersion)}, kind ${String(kind)}`],
      });
      continue;
    }
    try {
      new Model(obj).validate();
      objects.push({ ...entry, ok: true });
    } catch (err) {
      objects.push({ ...entry, ok: false, errors: describe(err) });
    }
  }
}

const failures = objects.filter((o) => !o.ok).length;
process.stdout.write(JSON.stringify({ objects, failures }, null, 2) + '\n');
process.exitCode = failures === 0 ? 0 : 1;
