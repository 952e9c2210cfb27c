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
  HEALTH_PORT_VAR,
  INGRESS_API_BACKEND,
  INGRESS_APP_BACKEND,
  K8S_BASE,
  K8S_OVERLAYS,
  MIGRATION_ENV,
  NOT_DEPLOYED,
  portVar,
  ROOT,
} from './deploy-inputs';
import {
  ConfigMap,
  Container,
  containersOf,
  Deployment,
  failuresOf,
  Hpa,
  Ingress,
  IngressBackend,
  ingressPathFor,
  Job,
  loadK8sFile,
  mentionsDevTool,
  named,
  ofKind,
  Pdb,
  Secret,
  selects,
  Service,
  validateK8s,
} from './k8s-objects';
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

    describe('the Ingress', () => {
      const ingresses = ofKind<Ingress>(base, 'Ingress');
      const spec = ingresses[0]?.spec;
      const paths = (spec?.rules ?? []).flatMap((r) => r.http?.paths ?? []);
      /** The Service a request path reaches through the Ingress (undefined: none). */
      const backendOf = (path: string) => ingressPathFor(paths, path)?.backend.service?.name;

      it('is one, with one rule, routing to the gateway and the web server only, on their http ports', () => {
        expect(ingresses).toHaveLength(1);
        expect(spec?.defaultBackend).toBeUndefined();
        expect(spec?.rules).toHaveLength(1);
        const backends = paths.map((p) => p.backend).filter((b): b is IngressBackend => b !== undefined);
        expect([...new Set(backends.map((b) => b.service?.name))].sort()).toEqual([INGRESS_API_BACKEND, INGRESS_APP_BACKEND].sort());
        expect(backends.map((b) => b.service?.port?.name)).toEqual(backends.map(() => 'http'));
      });

      it('sends the API and every public route of the gateway (libs/contracts) to the gateway', () => {
        for (const path of ['/api', '/api/v1', '/api/v1/documents', '/api/v1/documents/0b6f3c52/payload']) {
          expect({ path, backend: backendOf(path) }).toEqual({ path, backend: INGRESS_API_BACKEND });
        }
        const publicPaths = ROUTES.filter((r) => r.public).map((r) => r.path);
        expect(publicPaths.length).toBeGreaterThan(0);
        for (const path of publicPaths) expect({ path, backend: backendOf(path) }).toEqual({ path, backend: INGRESS_API_BACKEND });
      });

      it('sends the browser app’s paths to the web server, and no look-alike to the gateway', () => {
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
      });

      it('exposes no health or metrics endpoint: not the gateway’s, and the web server’s are on a port its Service lacks', () => {
        for (const path of ['/health/live', '/health/ready', '/metrics']) {
          expect({ path, backend: backendOf(path) }).toEqual({ path, backend: INGRESS_APP_BACKEND });
        }
        const app = INGRESS_APP_BACKEND;
        expect(HEALTH_PORT_VAR[app]).toBeDefined();
        const container = named<Deployment>(base, 'Deployment', app)?.spec.template.spec.containers.find((c) => c.name === app);
        const health = container?.ports?.find((p) => p.name === 'health');
        expect(health).toBeDefined();
        const service = named<Service>(base, 'Service', app);
        const exposed = (service?.spec.ports ?? []).map((p) => p.targetPort ?? p.port);
        expect(exposed.length).toBeGreaterThan(0);
        expect(exposed).not.toContain(health?.name);
        expect(exposed).not.toContain(health?.containerPort);
        // every Ingress backend port is a Service port that reaches the app's http port
        for (const b of paths.map((p) => p.backend.service)) {
          const svc = named<Service>(base, 'Service', b?.name ?? '');
          expect(svc?.spec.ports?.find((p) => p.name === b?.port?.name)?.targetPort).toBe('http');
        }
      });
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
