/**
 * Checks the deployment files offline (no Docker, no cluster, no kubectl):
 *
 * - docker-compose.yml against the Compose JSON schema (shipped in the npm package dclint)
 *   and the platform's rules (only the gateway and the web server are published, the dev IdP
 *   on loopback only; healthchecks; dev-idp is dev-only);
 * - deploy/k8s: every base manifest and every rendered overlay against the Kubernetes OpenAPI
 *   schemas (kubernetes-models, via validate-k8s.mjs because that package is ESM-only), plus
 *   the platform's rules (probes, resources, Services, HPAs, PDBs, migration Job, one Ingress
 *   that sends the API to the gateway and the rest to the web server, no health or metrics);
 * - that every environment variable an app reads (its zod config schema) is in .env.example,
 *   in its docker-compose service and in its Kubernetes configuration;
 * - the Dockerfile's service and web-server stages (no dev-idp, non-root, HEALTHCHECK).
 *
 * The overlays are rendered by a small Kustomize subset (kustomize.ts) (resources, namespace, labels,
 * images, replicas, patches). It refuses what it does not implement, so it never renders
 * something different from `kubectl kustomize` without saying so.
 *
 * The helpers live beside this file: deploy-inputs.ts (paths, apps, their variables),
 * yaml-files.ts, k8s-objects.ts (object shapes, validate-k8s.mjs), kustomize.ts and
 * compose-schema.ts.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ROUTES } from '@dvd/contracts';
import { GATEWAY_UPSTREAMS, parseHmacKeys } from '@dvd/platform';
import { nodeArgsOf } from '../launcher/node-args';
import { composeEnvKeys, ComposeService, composeValidator } from './compose-schema';
import {
  ALL_APP_ENV,
  APP_NAMES,
  APPS,
  AUTOSCALED,
  COMPOSE_FILE,
  DOCKERFILE,
  ENV_EXAMPLE,
  envOf,
  EXTERNAL_SERIES,
  HEALTH_PORT_VAR,
  INGRESS_API_BACKEND,
  INGRESS_APP_BACKEND,
  K8S_BASE,
  K8S_OVERLAYS,
  MIGRATION_ENV,
  NODE_RUNTIME_ENV,
  NOT_DEPLOYED,
  portVar,
  ROOT,
  SLOW_UPLOAD_S,
  TRAEFIK_VALUES,
  WITHOUT_METRICS,
} from './deploy-inputs';
import {
  allows,
  ConfigMap,
  Container,
  containersOf,
  Deployment,
  edgeOf,
  edgeRouteFor,
  failuresOf,
  Hpa,
  isEmptySelector,
  Job,
  KObject,
  kubectlKustomize,
  loadK8sFile,
  mentionsDevTool,
  Middleware,
  named,
  NetworkPolicy,
  ofKind,
  Pdb,
  podLabelsOf,
  podSpecsOf,
  PrometheusRule,
  Secret,
  secretRefsOf,
  seconds,
  selects,
  selectsPod,
  Service,
  ServiceMonitor,
  validateK8s,
} from './k8s-objects';
import { exportedSeries } from './metrics';
import { readPromql } from './promql';
import { KUSTOMIZATION_FILES, kustomizationFile, referencedPaths, renderKustomization } from './kustomize';
import { asArray, isRecord, Json, read, readYaml, rel } from './yaml-files';

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

    it('gives each service the secret the gateway signs with towards it, and no other service its secret (ADR 0025)', () => {
      const env = (name: string) => (services[name].environment ?? {}) as Record<string, string>;
      const gateway = parseHmacKeys(env('gateway').IDENTITY_HMAC_KEYS);
      expect([...new Set(gateway.map((k) => k.audience))].sort()).toEqual([...GATEWAY_UPSTREAMS].sort());
      for (const service of GATEWAY_UPSTREAMS) {
        const own = parseHmacKeys(env(service).IDENTITY_HMAC_KEYS);
        expect({ service, audiences: own.map((k) => k.audience) }).toEqual({ service, audiences: [service] });
        // the gateway signs with the last key of a service: the service must hold that one
        const signing = gateway.filter((k) => k.audience === service).at(-1)!;
        expect({ service, holds: own.some((k) => k.kid === signing.kid && k.key.equals(signing.key)) }).toEqual({ service, holds: true });
      }
    });

    it('publishes ports for the gateway and the web server, and the dev IdP on loopback only', () => {
      const publishing = Object.entries(services)
        .filter(([, s]) => asArray(s.ports).length > 0 || s.network_mode === 'host')
        .map(([name]) => name)
        .sort();
      expect(publishing).toEqual(['dev-idp', 'gateway', 'web-server']);
      // the dev IdP mints tokens for any role: the browser on this machine may reach it, nobody else
      expect(asArray(services['dev-idp'].ports).map(String)).toEqual(['127.0.0.1:3100:3100']);
    });

    it.each(APP_NAMES)('runs %s from its image (stage runtime, or web-server) with a healthcheck', (app) => {
      const service = services[app];
      expect(service).toBeDefined();
      expect(service.build).toMatchObject(app === 'web-server' ? { target: 'web-server' } : { target: 'runtime', args: { APP: app } });
      const test = service.healthcheck?.test;
      expect(service.healthcheck?.disable).not.toBe(true);
      expect(Array.isArray(test) ? test.join(' ') : test).toMatch(/\/health\/(ready|live)/);
    });

    it('has dev-idp as a development service only', () => {
      const devIdp = services['dev-idp'];
      expect(devIdp).toBeDefined();
      expect(devIdp.build).toMatchObject({ target: 'dev' });
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
        // the probes: on the app's port, or on its health port where it has one (never in its Service)
        const healthVar = HEALTH_PORT_VAR[app];
        const probed = healthVar ? container?.ports?.find((p) => p.name === 'health') : port;
        if (healthVar) expect(String(probed?.containerPort)).toBe(configMap?.data?.[healthVar]);
        for (const probe of [container?.readinessProbe, container?.livenessProbe]) {
          expect([probed?.name, probed?.containerPort]).toContain(probe?.httpGet?.port);
        }
      });

      it('has a Service that selects its pods', () => {
        const service = named<Service>(base, 'Service', app);
        expect(service).toBeDefined();
        expect(selects(service?.spec.selector, podLabels)).toBe(true);
        // every Service port reaches a port the container declares (by name or number)
        const declared = (container?.ports ?? []).flatMap((p) => [p.name, p.containerPort]);
        expect(service?.spec.ports?.length).toBeGreaterThan(0);
        for (const p of service?.spec.ports ?? []) expect(declared).toContain(p.targetPort ?? p.port);
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

    it('mentions no development tool (dev-idp, s3rver) in any object', () => {
      expect(base.flatMap((o) => mentionsDevTool(o).map((w) => `${o.kind} ${o.metadata.name}: ${w}`))).toEqual([]);
    });

    it.each(APP_NAMES.filter((a) => !WITHOUT_METRICS.includes(a)))(
      '%s: a ServiceMonitor scrapes /metrics on its Service’s http port',
      (app) => {
        const service = named<Service>(base, 'Service', app);
        const monitors = ofKind<ServiceMonitor>(base, 'ServiceMonitor').filter((m) =>
          selects(m.spec.selector.matchLabels, service?.metadata.labels),
        );
        expect(monitors).toHaveLength(1);
        expect(monitors[0].spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
        expect(service?.spec.ports?.map((p) => p.name)).toContain('http');
      },
    );

    describe('alerts and dashboard', () => {
      const rules = ofKind<PrometheusRule>(base, 'PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g) => g.rules));
      const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
      const dashboard = JSON.parse(read(join(K8S_BASE, 'dashboards/dvd-overview.json'))) as {
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      };
      const queries = [
        ...rules.map((r) => ({ where: r.alert ?? r.record ?? '?', expr: r.expr })),
        ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel ${p.title}`, expr: t.expr }))),
      ];
      let exported: Set<string>;
      beforeAll(async () => {
        exported = await exportedSeries();
      });

      it('has the alerts the platform team needs', () => {
        const alerts = rules.flatMap((r) => (r.alert ? [r.alert] : [])).sort();
        expect(alerts).toEqual(
          expect.arrayContaining([
            'DvdErrorBudgetBurnFast',
            'DvdErrorBudgetBurnSlow',
            'DvdLatencyBudgetBurnFast',
            'DvdLatencyBudgetBurnSlow',
            'DvdDeadLetters',
            'DvdOutboxLag',
            'DvdExportFailures',
            'DvdReaperNotRunning',
            'DvdPodsNotReady',
          ]),
        );
        for (const r of rules.filter((x) => x.alert)) {
          expect({ alert: r.alert, severity: r.labels?.severity }).toEqual({
            alert: r.alert,
            severity: expect.stringMatching(/^(page|ticket)$/) as unknown,
          });
          expect({ alert: r.alert, summary: !!r.annotations?.summary, runbook: !!r.annotations?.runbook }).toEqual({
            alert: r.alert,
            summary: true,
            runbook: true,
          });
        }
      });

      it('every expression parses as PromQL (the Prometheus project’s grammar)', () => {
        expect(queries.length).toBeGreaterThan(20);
        expect(queries.flatMap((q) => readPromql(q.expr).errors.map((e) => `${q.where}: ${e}`))).toEqual([]);
        // the parser is not vacuous
        expect(readPromql('sum(rate(x[5m])').errors.length).toBeGreaterThan(0);
      });

      it('every metric an alert or a panel reads is one the services export (or Prometheus / kube-state-metrics)', () => {
        const known = new Set([...exported, ...recorded, ...EXTERNAL_SERIES]);
        const unknown = queries.flatMap((q) =>
          readPromql(q.expr)
            .metrics.filter((m) => !known.has(m))
            .map((m) => `${q.where}: ${m}`),
        );
        expect(unknown).toEqual([]);
        // and the check is not vacuous: the code's own declarations and prom-client's defaults are in the list
        expect(exported).toEqual(expect.objectContaining({}));
        for (const m of [
          'dvd_reaper_last_run_timestamp_seconds',
          'dvd_reaper_failures_total',
          'process_resident_memory_bytes',
          'nodejs_eventloop_lag_p99_seconds',
        ])
          expect({ m, exported: exported.has(m) }).toEqual({ m, exported: true });
        expect(readPromql('rate(dvd_no_such_metric_total[5m])').metrics.filter((m) => !known.has(m))).toEqual(['dvd_no_such_metric_total']);
      });
    });

    describe.each(overlays)('overlay %s', (overlay) => {
      const dir = join(K8S_OVERLAYS, overlay);
      const rendered = renderKustomization(dir);

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

      it('renders to valid objects (Kubernetes and the CRDs’ schemas): namespaced, pinned images, no Secret template, no dev tools', async () => {
        const file = join(scratch, `${overlay}.yaml`);
        writeFileSync(file, rendered.map((o) => stringify(o)).join('---\n'));
        const report = await validateK8s([file]);
        expect(failuresOf(report)).toEqual([]);
        expect(report.objects).toHaveLength(rendered.length);

        expect(rendered.filter((o) => !o.metadata.namespace).map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
        // the real Secrets are created outside git; an apply must never overwrite them with placeholders
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
        expect(rendered.flatMap((o) => mentionsDevTool(o).map((w) => `${o.kind} ${o.metadata.name}: ${w}`))).toEqual([]);
        // the overlay filled in what the base leaves to it: the namespace in middleware references, the data stores' network
        expect(JSON.stringify(rendered).match(/REPLACE-NAMESPACE|192\.0\.2\.\d+\/\d+/g) ?? []).toEqual([]);
      });

      it('is what `kubectl kustomize` renders (where kubectl is installed)', async () => {
        const kubectl = await kubectlKustomize(dir);
        if (kubectl === null) {
          process.stdout.write(`deploy: kubectl is not installed; ${overlay} was rendered by tools/deploy/kustomize.ts only\n`);
          return;
        }
        const key = (o: KObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
        const byKey = (objects: KObject[]) => Object.fromEntries(objects.map((o) => [key(o), o]));
        expect(byKey(rendered)).toEqual(byKey(kubectl));
      });

      it('has one edge, which routes the API and the receipt keys to the gateway and the rest to the web server', () => {
        const edge = edgeOf(rendered);
        expect(edge.hosts.length).toBe(1);
        expect(edge.hosts[0]).not.toMatch(/\.invalid$/);
        const backendOf = (path: string) => edgeRouteFor(edge.routes, path)?.service;
        for (const path of ['/api', '/api/v1', '/api/v1/documents', '/api/v1/documents/0b6f3c52/payload']) {
          expect({ path, backend: backendOf(path) }).toEqual({ path, backend: INGRESS_API_BACKEND });
        }
        const publicPaths = ROUTES.filter((r) => r.public).map((r) => r.path);
        expect(publicPaths.length).toBeGreaterThan(0);
        for (const path of publicPaths) expect({ path, backend: backendOf(path) }).toEqual({ path, backend: INGRESS_API_BACKEND });
        for (const path of [
          '/',
          '/citizen',
          '/citizen/documents/0b6f3c52',
          '/callback',
          '/config.json',
          '/assets/index-abc.js',
          '/apis',
          '/api-docs',
        ]) {
          expect({ path, backend: backendOf(path) }).toEqual({ path, backend: INGRESS_APP_BACKEND });
        }
        // only these two Services, each on the port that reaches its app's http port
        expect([...new Set(edge.routes.map((r) => r.service))].sort()).toEqual([INGRESS_API_BACKEND, INGRESS_APP_BACKEND].sort());
        for (const r of edge.routes) {
          const svc = named<Service>(rendered, 'Service', r.service);
          expect({ route: r.path, targetPort: svc?.spec.ports?.find((p) => p.name === r.port || p.port === r.port)?.targetPort }).toEqual({
            route: r.path,
            targetPort: 'http',
          });
        }
      });

      it('exposes no /metrics, /health/*, /internal/* or API docs of any service', () => {
        const edge = edgeOf(rendered);
        const backendOf = (path: string) => edgeRouteFor(edge.routes, path)?.service;
        // such paths reach the web server's app port (which answers them with the browser app), never a service
        for (const path of ['/metrics', '/health/live', '/health/ready', '/internal/documents/x', '/api/docs']) {
          if (path === '/api/docs') continue; // the gateway refuses its docs in production (its own test)
          expect({ path, backend: backendOf(path) }).toEqual({ path, backend: INGRESS_APP_BACKEND });
        }
        const container = named<Deployment>(rendered, 'Deployment', INGRESS_APP_BACKEND)?.spec.template.spec.containers[0];
        const health = container?.ports?.find((p) => p.name === 'health');
        expect(health).toBeDefined();
        const exposed = (named<Service>(rendered, 'Service', INGRESS_APP_BACKEND)?.spec.ports ?? []).map((p) => p.targetPort ?? p.port);
        expect(exposed).not.toContain(health?.name);
        expect(exposed).not.toContain(health?.containerPort);
      });

      it('lets a 100 MiB upload at 1 Mbit/s through every timeout, and limits each client at the edge', () => {
        const configMap = named<ConfigMap>(rendered, 'ConfigMap', 'dvd-config');
        const serviceTimeoutS = Number(configMap?.data?.HTTP_REQUEST_TIMEOUT_MS) / 1000;
        expect(serviceTimeoutS).toBeGreaterThan(SLOW_UPLOAD_S);
        const edge = edgeOf(rendered);
        // the edge controller's own timeouts: the route's (Gateway API) and Traefik's entry point
        for (const r of edge.routes)
          if (r.timeoutS !== undefined)
            expect({ route: r.path, timeoutS: r.timeoutS >= serviceTimeoutS }).toEqual({ route: r.path, timeoutS: true });
        const values = readYaml(TRAEFIK_VALUES) as {
          ports: { websecure: { transport: { respondingTimeouts: { readTimeout: string; writeTimeout: string } } } };
        };
        const { readTimeout, writeTimeout } = values.ports.websecure.transport.respondingTimeouts;
        expect(seconds(readTimeout)).toBeGreaterThanOrEqual(serviceTimeoutS);
        expect(seconds(writeTimeout)).toBeGreaterThanOrEqual(serviceTimeoutS);
        // Traefik lets go of an idle connection to a service before the service closes it
        const idle = (values as { additionalArguments?: string[] }).additionalArguments
          ?.map((a) => /^--serversTransport\.forwardingTimeouts\.idleConnTimeout=(.+)$/.exec(a)?.[1])
          .find((v) => v !== undefined);
        expect(idle).toBeDefined();
        expect(seconds(idle!)).toBeLessThan(Number(configMap?.data?.HTTP_KEEP_ALIVE_TIMEOUT_MS) / 1000);
        // per-client limits on every route: a Traefik middleware that counts by source IP
        const middlewares = ofKind<Middleware>(rendered, 'Middleware');
        // the event stream (SSE) reaches the gateway through a route of its own, whose in-flight
        // limit allows the open streams of many users behind one address (each stream stays in flight)
        const events = edgeRouteFor(edge.routes, '/api/v1/events');
        expect({ service: events?.service, pathType: events?.pathType }).toEqual({ service: INGRESS_API_BACKEND, pathType: 'Exact' });
        const inFlight = (r?: { middlewares: string[] }) =>
          Math.max(0, ...middlewares.filter((m) => r?.middlewares.includes(m.metadata.name)).map((m) => m.spec.inFlightReq?.amount ?? 0));
        expect(inFlight(events)).toBeGreaterThan(inFlight(edgeRouteFor(edge.routes, '/api/v1/documents')));
        for (const r of edge.routes) {
          const used = middlewares.filter((m) => r.middlewares.includes(m.metadata.name));
          expect({ route: r.path, connections: used.some((m) => m.spec.inFlightReq?.sourceCriterion?.ipStrategy !== undefined) }).toEqual({
            route: r.path,
            connections: true,
          });
        }
      });

      it('denies by default, and every pod has a NetworkPolicy of its own', () => {
        const policies = ofKind<NetworkPolicy>(rendered, 'NetworkPolicy');
        const denyAll = policies.filter(
          (p) =>
            isEmptySelector(p.spec.podSelector) &&
            p.spec.policyTypes?.includes('Ingress') &&
            p.spec.policyTypes.includes('Egress') &&
            !p.spec.ingress?.length &&
            !p.spec.egress?.length,
        );
        expect(denyAll).toHaveLength(1);
        const pods = rendered.filter((o) => podSpecsOf(o).length > 0);
        expect(pods.length).toBeGreaterThan(APP_NAMES.length);
        for (const o of pods) {
          const labels = podLabelsOf(o);
          const own = policies.filter((p) => !isEmptySelector(p.spec.podSelector) && selectsPod(p.spec.podSelector, labels));
          expect({ pod: `${o.kind} ${o.metadata.name}`, policies: own.length > 0 }).toEqual({
            pod: `${o.kind} ${o.metadata.name}`,
            policies: true,
          });
        }
      });

      it('lets export-worker reach the internet, its data stores and its peers, but no private, cluster or metadata address', () => {
        const labels = podLabelsOf(named<Deployment>(rendered, 'Deployment', 'export-worker') as KObject);
        const egress = ofKind<NetworkPolicy>(rendered, 'NetworkPolicy')
          .filter((p) => selectsPod(p.spec.podSelector, labels) && p.spec.policyTypes?.includes('Egress'))
          .flatMap((p) => p.spec.egress ?? []);
        const blocks = egress.flatMap((rule) =>
          (rule.to ?? []).flatMap((peer) => (peer.ipBlock ? [{ ...peer.ipBlock, ports: rule.ports }] : [])),
        );
        expect(egress.every((rule) => (rule.to ?? []).length > 0)).toBe(true); // no rule open to every address
        const dataStores = named<NetworkPolicy>(rendered, 'NetworkPolicy', 'allow-data-stores')?.spec.egress?.[0].to?.[0].ipBlock?.cidr;
        for (const address of [
          '169.254.169.254',
          'fd00:ec2::254',
          '10.0.0.1',
          '10.96.0.1',
          '172.16.0.1',
          '192.168.0.1',
          '100.64.0.1',
          '127.0.0.1',
          'fe80::1',
          'fd12::1',
        ]) {
          const open = blocks.filter((b) => b.cidr !== dataStores && allows(b, address));
          expect({ address, reachableThrough: open.map((b) => b.cidr) }).toEqual({ address, reachableThrough: [] });
        }
        expect(blocks.some((b) => allows(b, '169.254.169.254'))).toBe(false);
        // and a public address is reachable, on 443 only
        const internet = blocks.filter((b) => allows(b, '203.0.113.10') || allows(b, '2001:db8::10'));
        expect(internet.length).toBeGreaterThan(0);
        for (const b of internet) expect(b.ports?.map((p) => p.port)).toEqual([443]);
      });

      it('shares no Secret: each workload reads its own (the migrate Job reads only the services’ DATABASE_URL)', () => {
        const readers = new Map<string, Set<string>>();
        for (const o of rendered.filter((x) => podSpecsOf(x).length > 0)) {
          for (const { secret, key } of secretRefsOf(o)) {
            if (o.metadata.name === 'dvd-migrate' && key === 'DATABASE_URL' && secret !== 'dvd-migrate') continue;
            readers.set(secret, (readers.get(secret) ?? new Set()).add(`${o.kind} ${o.metadata.name}`));
          }
        }
        const shared = [...readers].filter(([, who]) => who.size > 1).map(([secret, who]) => `${secret}: ${[...who].join(', ')}`);
        expect(shared).toEqual([]);
        for (const app of APP_NAMES.filter((a) => a !== 'web-server')) {
          expect({ app, secrets: [...readers].filter(([, who]) => who.has(`Deployment ${app}`)).map(([s]) => s) }).toEqual({
            app,
            secrets: [`dvd-${app}`],
          });
        }
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
      const reads = new Set([...envOf(app), ...NODE_RUNTIME_ENV]);
      expect(composeEnvKeys(services[app]).filter((v) => !reads.has(v))).toEqual([]);
    });

    // gateway and realtime hold the event streams and run with options of their own (ADR 0021)
    it.each(APP_NAMES)('%s: runs with its Node options (tools/launcher/node-args.ts) in docker-compose.yml and deploy/k8s', (app) => {
      const words = (v: unknown) => (typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : []);
      const env = services[app].environment;
      const compose = words(Array.isArray(env) ? env.find((e) => e.startsWith('NODE_OPTIONS='))?.slice(13) : env?.NODE_OPTIONS);
      const container = named<Deployment>(base, 'Deployment', app)?.spec.template.spec.containers.find((c) => c.name === app);
      const k8s = words(
        (container?.env as Array<{ name: string; value?: string }> | undefined)?.find((e) => e.name === 'NODE_OPTIONS')?.value,
      );
      const want = nodeArgsOf(app);
      expect({ app, compose: want.filter((a) => !compose.includes(a)), k8s: want.filter((a) => !k8s.includes(a)) }).toEqual({
        app,
        compose: [],
        k8s: [],
      });
      // the image's own option stays where NODE_OPTIONS replaces it
      if (compose.length) expect(compose).toContain('--enable-source-maps');
      if (k8s.length) expect(k8s).toContain('--enable-source-maps');
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
    // Instructions, continuation lines joined, grouped by stage.
    const instructions = read(DOCKERFILE)
      .replace(/\\\r?\n/g, ' ')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const froms = instructions.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0);
    const stage = (name: string): string[] => {
      const at = froms.find((i) => new RegExp(`\\sAS\\s+${name}$`, 'i').test(instructions[i]));
      if (at === undefined) return [];
      return instructions.slice(at, froms.find((i) => i > at) ?? instructions.length);
    };
    const lastFrom = froms[froms.length - 1] ?? -1;

    it('the final stage (the default target) is the service image', () => {
      expect(lastFrom).toBeGreaterThanOrEqual(0);
      expect(instructions[lastFrom]).toMatch(/\bAS\s+runtime$/i);
    });

    describe.each(['runtime', 'web-server'])('stage %s (an image)', (name) => {
      const finalStage = stage(name);

      it('is built from the app alone', () => {
        expect(finalStage.length).toBeGreaterThan(0);
        const copies = finalStage.filter((l) => /^(COPY|ADD)\s/i.test(l));
        expect(copies.length).toBeGreaterThan(0);
        expect(copies.filter((l) => /dev-idp|s3rver|--from=dev\b/i.test(l))).toEqual([]);
        // no whole-tree copy that would bring dev-idp along
        expect(copies.filter((l) => /\s(\/app\/)?dist\/?\s|\s\.\s+\.\/?$/.test(l))).toEqual([]);
      });

      it('runs as a non-root USER and has a HEALTHCHECK', () => {
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
});
