import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RunningPlatform, ROOT, startPlatform } from './platform-process';

const run = promisify(execFile);

async function portOpen(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

describe('the whole platform, started as `npm start` starts it', () => {
  let p: RunningPlatform;

  beforeAll(async () => {
    p = await startPlatform();
  }, 150_000);

  afterAll(async () => {
    if (p && p.child.exitCode === null) await p.stop();
  });

  const get = async (path: string, token: string) => {
    const res = await fetch(`${p.gateway}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
  };

  it('prints where the gateway listens and how to get a token', () => {
    expect(p.output()).toContain(`[dvd] ready: gateway on ${p.gateway}/api/v1`);
    expect(p.output()).toContain('npm run -s token -- citizen');
  });

  it('serves the browser app on its own origin: the page with its CSP, /config.json, and /api/ through to the gateway', async () => {
    const web = `http://127.0.0.1:${p.ports.web}`;
    expect(p.output()).toContain(`[dvd] web app: ${web} (log in through the development IdP)`);
    const page = await fetch(`${web}/citizen`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root"></div>');
    const idp = `http://127.0.0.1:${p.ports['dev-idp']}`;
    expect(page.headers.get('content-security-policy')).toContain(`connect-src 'self' ${idp}`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(await (await fetch(`${web}/config.json`)).json()).toEqual({
      apiBase: '/api/v1',
      audience: 'dvd-api',
      issuers: { citizen: `${idp}/citizen`, official: `${idp}/official` },
      clientId: 'dvd-web',
    });
    const citizen = await p.token({ role: 'citizen', sub: 'web-smoke' });
    const documents = await fetch(`${web}/api/v1/documents`, { headers: { authorization: `Bearer ${citizen}` } });
    expect(documents.status).toBe(200);
    expect(await documents.json()).toEqual({ items: [], nextCursor: null });
  });

  it('reaches every service through the gateway', async () => {
    const citizen = await p.token({ role: 'citizen', sub: 'alice' });
    const official = await p.token({ role: 'official', authority: 'a1' });

    const documents = await get('/documents', citizen); // intake
    expect(documents).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
    const threads = await get('/threads', official); // communication
    expect(threads).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
    const authority = await get('/authorities/a1', official); // routing-engine
    expect(authority.status).toBe(404);
    expect(authority.body.type).toContain('authority-not-found');
    const job = await get(`/exports/${randomUUID()}`, official); // export-worker
    expect(job.status).toBe(404);
    expect(job.body.type).toContain('export-job-not-found');
    expect(job.type).toMatch(/^application\/problem\+json/);
  });

  it('answers 401 to a direct call to any service with forged identity headers', async () => {
    for (const service of ['intake', 'routing-engine', 'communication', 'export-worker'] as const) {
      const res = await fetch(`http://127.0.0.1:${p.ports[service]}/api/v1/documents`, {
        headers: {
          'x-user-id': 'mallory',
          'x-user-role': 'platform-admin',
          'x-authority-id': 'a1',
          'x-request-id': 'r',
          'x-identity-timestamp': String(Math.floor(Date.now() / 1000)),
          'x-identity-signature': 'forged',
        },
      });
      expect({ service, status: res.status }).toEqual({ service, status: 401 });
    }
  });

  it('reports every service ready, with its dependencies, and serves metrics', async () => {
    for (const service of ['gateway', 'intake', 'routing-engine', 'communication', 'export-worker'] as const) {
      const ready = await fetch(`http://127.0.0.1:${p.ports[service]}/health/ready`);
      expect({ service, status: ready.status }).toEqual({ service, status: 200 });
      const metrics = await (await fetch(`http://127.0.0.1:${p.ports[service]}/metrics`)).text();
      expect(metrics).toContain(`process_cpu_user_seconds_total{service="${service}"}`);
    }
    const intake = (await (await fetch(`http://127.0.0.1:${p.ports.intake}/health/ready`)).json()) as { info: Record<string, unknown> };
    // redis: where intake remembers seen identity signatures (ADR 0014)
    expect(Object.keys(intake.info).sort()).toEqual(['broker', 'database', 'redis', 'storage']);
  });

  it('mints tokens with `npm run token` for every role', async () => {
    const env = { ...process.env, DEV_IDP_PORT: String(p.ports['dev-idp']) };
    for (const args of [
      ['citizen'],
      ['official', '--authority', 'a1'],
      ['official', '--authority', 'a1', '--scope', 'dvd:admin'],
      ['platform-admin'],
    ]) {
      const { stdout } = await run(process.execPath, [join(ROOT, 'tools', 'scripts', 'token.js'), ...args], { env });
      const token = stdout.trim();
      expect(token.split('.')).toHaveLength(3);
      const res = await get('/documents', token);
      expect(res.status).toBe(200);
    }
  });

  it('stops everything on SIGTERM, leaving no process behind', async () => {
    const code = await p.stop();
    expect(code).toBe(0);
    for (const port of Object.values(p.ports)) expect(await portOpen(port)).toBe(false);
  });
});

describe('bad configuration', () => {
  it('stops a service with one line naming every bad variable', async () => {
    const main = join(ROOT, 'dist', 'apps', 'intake', 'src', 'main.js');
    const result = await run(process.execPath, [main], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: 'mysql://db/x',
        EVENT_MAX_DELIVERIES: 'many',
        IDENTITY_VERIFY_KEYS: '{"keys":[]}',
      },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((l) => l && !l.includes('NodeVersionSupportWarning') && l.startsWith('intake:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/DATABASE_URL/);
    expect(lines[0]).toMatch(/EVENT_MAX_DELIVERIES/);
    expect(lines[0]).toMatch(/IDENTITY_VERIFY_KEYS/);
    expect(lines[0]).not.toContain('mysql://db/x');
  });
});
