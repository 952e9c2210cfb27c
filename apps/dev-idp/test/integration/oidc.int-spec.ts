/**
 * The development IdP as an OpenID provider, driven over HTTP the way the browser app and
 * a browser drive it: discovery → authorization request (PKCE S256, resource=dvd-api) →
 * the account picker → the code at the redirect URI → the token request → a JWT access
 * token that the real gateway (its compiled app, with the dev IdP's JWKS) accepts with the
 * picked role. Both run as processes from dist/ (see dev-idp-process.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JWTPayload, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { TEST_REDIS_URL, freePort, testIdentityEnv, uniqueName } from '@dvd/testing';
import { AppProcess, Browser, Echoed, ROOT, echoUpstream, location, startApp } from './dev-idp-process';

type Issuer = 'citizen' | 'official';
const AUDIENCE = 'dvd-api';
const CLIENT_ID = 'dvd-web';

const b64url = (b: Buffer) => b.toString('base64url');

describe('development IdP: OpenID Connect for the browser app (real processes)', () => {
  let idp: AppProcess;
  let gateway: AppProcess;
  let upstream: { server: Server; url: string };
  let dataDir: string;
  let base: string;
  let gatewayUrl: string;
  let webOrigin: string;
  let redirectUri: string;
  const discovery = {} as Record<Issuer, Record<string, unknown>>;

  beforeAll(async () => {
    const [idpPort, gatewayPort, webPort] = [await freePort(), await freePort(), await freePort()];
    base = `http://127.0.0.1:${idpPort}`;
    webOrigin = `http://127.0.0.1:${webPort}`;
    redirectUri = `${webOrigin}/callback`;
    dataDir = await mkdtemp(join(tmpdir(), 'dvd-dev-idp-'));
    upstream = await echoUpstream();
    idp = await startApp('dev-idp', idpPort, {
      LOG_LEVEL: 'warn',
      DEV_IDP_PORT: String(idpPort),
      DEV_IDP_BASE_URL: base,
      DEV_IDP_DATA_DIR: dataDir,
      DEV_IDP_WEB_REDIRECT_URIS: `${redirectUri}, http://localhost:${webPort}/callback`,
    });
    gateway = await startApp('gateway', gatewayPort, {
      LOG_LEVEL: 'warn',
      GATEWAY_PORT: String(gatewayPort),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `${uniqueName('devidp')}:`,
      CITIZEN_ISSUER: `${base}/citizen`,
      CITIZEN_JWKS_URI: `${base}/citizen/jwks.json`,
      OFFICIAL_ISSUER: `${base}/official`,
      OFFICIAL_JWKS_URI: `${base}/official/jwks.json`,
      INTAKE_URL: upstream.url,
      ROUTING_ENGINE_URL: upstream.url,
      COMMUNICATION_URL: upstream.url,
      EXPORT_WORKER_URL: upstream.url,
      ...testIdentityEnv('gateway'),
    });
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    for (const issuer of ['citizen', 'official'] as const) {
      discovery[issuer] = (await (await fetch(`${base}/${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    }
  }, 150_000);

  afterAll(async () => {
    await gateway?.stop();
    await idp?.stop();
    upstream?.server.closeAllConnections();
    upstream?.server.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  // ---- the steps of the flow ------------------------------------------------------------

  interface Authorization {
    browser: Browser;
    verifier: string;
    /** The picker as the browser got it. */
    picker: Response;
    pickerHtml: string;
    /** The redirect to the browser app. */
    callback: URL;
    code: string;
  }

  /** Authorization request → picker → submitted form → code at the redirect URI. */
  async function authorize(
    issuer: Issuer,
    form: Record<string, string>,
    o: { scope?: string; browser?: Browser; extra?: Record<string, string> } = {},
  ): Promise<Authorization> {
    const browser = o.browser ?? new Browser();
    const verifier = b64url(randomBytes(32));
    const state = b64url(randomBytes(16));
    const auth = new URL(String(discovery[issuer].authorization_endpoint));
    auth.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: o.scope ?? 'openid profile offline_access',
      state,
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      resource: AUDIENCE,
      ...o.extra,
    }).toString();

    const toPicker = await browser.get(auth.href);
    expect(toPicker.status).toBe(303);
    const pickerUrl = location(toPicker, auth.href);
    expect(pickerUrl).toMatch(new RegExp(`^${base}/${issuer}/interaction/[\\w-]+$`));
    const picker = await browser.get(pickerUrl);
    const pickerHtml = await picker.text();
    expect(picker.status).toBe(200);

    const submitted = await browser.post(pickerUrl, { ...form, action: 'login' });
    expect(submitted.status).toBe(303);
    const resume = location(submitted, pickerUrl);
    const back = await browser.get(resume);
    expect(back.status).toBe(303);
    const callback = new URL(location(back, resume));
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(`${base}/${issuer}`);
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`no code at the redirect URI: ${callback.search}`);
    return { browser, verifier, picker, pickerHtml, callback, code };
  }

  async function tokenRequest(issuer: Issuer, params: Record<string, string>, headers: Record<string, string> = {}) {
    const res = await fetch(String(discovery[issuer].token_endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ client_id: CLIENT_ID, ...params }).toString(),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> };
  }

  const exchange = (issuer: Issuer, a: Authorization, extra: Record<string, string> = {}) =>
    tokenRequest(issuer, {
      grant_type: 'authorization_code',
      code: a.code,
      redirect_uri: redirectUri,
      code_verifier: a.verifier,
      resource: AUDIENCE,
      ...extra,
    });

  /** Verifies an access token against the issuer's JWKS as a resource server does (RFC 9068). */
  async function verifyAccessToken(issuer: Issuer, token: string): Promise<JWTPayload> {
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${base}/${issuer}/jwks.json`)), {
      issuer: `${base}/${issuer}`,
      audience: AUDIENCE,
      typ: 'at+jwt',
      requiredClaims: ['sub', 'iss', 'aud', 'exp'],
    });
    expect(protectedHeader.alg).toBe(issuer === 'citizen' ? 'RS256' : 'ES256');
    return payload;
  }

  /** A call through the real gateway: what identity the service behind it gets. */
  async function throughGateway(token: string): Promise<{ status: number; identity?: Record<string, string | undefined> }> {
    const res = await fetch(`${gatewayUrl}/api/v1/documents`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) return { status: res.status };
    const { headers } = (await res.json()) as Echoed;
    const h = (n: string) => headers[n] as string | undefined;
    return { status: 200, identity: { userId: h('x-user-id'), role: h('x-user-role'), authorityId: h('x-authority-id') } };
  }

  const officialForm = (role: string, authority = 'bauamt', sub = 'mustermann') => ({ sub, role, authority });

  // ---- discovery and keys -----------------------------------------------------------------

  it('serves a discovery document per issuer, its JWKS at the existing URL, readable from the web origin', async () => {
    for (const issuer of ['citizen', 'official'] as const) {
      const d = discovery[issuer];
      expect(d).toMatchObject({
        issuer: `${base}/${issuer}`,
        jwks_uri: `${base}/${issuer}/jwks.json`,
        authorization_endpoint: `${base}/${issuer}/auth`,
        token_endpoint: `${base}/${issuer}/token`,
        userinfo_endpoint: expect.stringContaining(`${base}/${issuer}/`),
        end_session_endpoint: expect.stringContaining(`${base}/${issuer}/`),
        code_challenge_methods_supported: ['S256'],
        response_types_supported: ['code'],
        grant_types_supported: expect.arrayContaining(['authorization_code', 'refresh_token']),
      });
      const res = await fetch(String(d.jwks_uri), { headers: { origin: webOrigin } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/127\.0\.0\.1:\d+)$/);
      const { keys } = (await res.json()) as { keys: Array<Record<string, string>> };
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ use: 'sig', alg: issuer === 'citizen' ? 'RS256' : 'ES256', kid: expect.stringMatching(/^\w+-/) });
      expect(keys[0]).not.toHaveProperty('d');
    }
    expect(discovery.citizen.scopes_supported).toEqual(['openid', 'profile', 'offline_access']);
    expect(discovery.official.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'offline_access', 'dvd:official', 'dvd:admin', 'dvd:platform-admin']),
    );
    const cors = await fetch(`${base}/citizen/.well-known/openid-configuration`, { headers: { origin: webOrigin } });
    expect(cors.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/127\.0\.0\.1:\d+)$/);
    // the keys are the ones kept in the data folder (the same the token script signs with)
    expect((await readdir(dataDir)).sort()).toEqual(['citizen-key.json', 'cookie-secret', 'official-key.json']);
  });

  // ---- the account picker -----------------------------------------------------------------

  it('shows an accessible account picker without any script, under a strict Content-Security-Policy', async () => {
    const { picker, pickerHtml } = await authorize('official', officialForm('official'));
    expect(picker.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = picker.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-inline|unsafe-eval/);
    expect(csp).toContain(`form-action 'self' ${webOrigin}`);
    expect(pickerHtml).not.toMatch(/<script|\son\w+=|style=/i);
    expect(pickerHtml).toContain('<html lang="de">');
    expect(pickerHtml).toContain('Entwicklungs-IdP — nicht für den Produktivbetrieb');
    for (const id of ['sub', 'role', 'authority']) {
      expect(pickerHtml).toContain(`<label for="${id}">`);
      expect(pickerHtml).toMatch(new RegExp(`id="${id}" name="${id}"`));
    }
    expect(pickerHtml).toMatch(/<button type="submit"[^>]*>Anmelden<\/button>/);
    const css = await fetch(`${base}/assets/dev-idp.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);

    const citizen = await authorize('citizen', { sub: 'alice' });
    expect(citizen.pickerHtml).toMatch(/id="sub" name="sub"/);
    expect(citizen.pickerHtml).not.toMatch(/id="role"|id="authority"/);
  });

  it('asks again, with the reasons, when the picker gets a bad user id or authority', async () => {
    const browser = new Browser();
    const verifier = b64url(randomBytes(32));
    const auth = new URL(String(discovery.official.authorization_endpoint));
    auth.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid dvd:official',
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      resource: AUDIENCE,
    }).toString();
    const pickerUrl = location(await browser.get(auth.href), auth.href);
    const res = await browser.post(pickerUrl, { sub: 'a b', role: 'official', authority: 'Bau Amt', action: 'login' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('role="alert"');
    expect(html).toMatch(/id="sub"[^>]*aria-invalid="true"/);
    expect(html).toMatch(/id="authority"[^>]*aria-invalid="true"/);
    expect(html).toContain('value="Bau Amt"');
    expect(html).not.toMatch(/<script/i);
    // and then it goes through
    const ok = await browser.post(pickerUrl, { ...officialForm('official'), action: 'login' });
    expect(ok.status).toBe(303);
  });

  it('"Abbrechen" sends access_denied back to the app', async () => {
    const browser = new Browser();
    const auth = new URL(String(discovery.citizen.authorization_endpoint));
    auth.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid',
      state: 's1',
      code_challenge: b64url(createHash('sha256').update('v'.repeat(43)).digest()),
      code_challenge_method: 'S256',
      resource: AUDIENCE,
    }).toString();
    const pickerUrl = location(await browser.get(auth.href), auth.href);
    const aborted = await browser.post(pickerUrl, { sub: 'alice', action: 'abort' });
    const resume = location(aborted, pickerUrl);
    const back = new URL(location(await browser.get(resume), resume));
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('s1');
    expect(back.searchParams.get('code')).toBeNull();
  });

  // ---- tokens ------------------------------------------------------------------------------

  it('citizen: code + PKCE → a JWT access token (RS256, aud dvd-api) that the gateway accepts as citizen', async () => {
    const a = await authorize('citizen', { sub: 'alice' });
    const res = await exchange('citizen', a, {});
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', id_token: expect.any(String), refresh_token: expect.any(String) });
    expect(decodeProtectedHeader(res.body.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    const claims = await verifyAccessToken('citizen', res.body.access_token);
    expect(claims).toMatchObject({ sub: 'alice', iss: `${base}/citizen`, aud: AUDIENCE, client_id: CLIENT_ID });
    expect(claims.authority_id).toBeUndefined();
    expect(Number(claims.exp) - Math.floor(Date.now() / 1000)).toBeGreaterThan(60);
    expect(decodeJwt(res.body.id_token)).toMatchObject({ sub: 'alice', aud: CLIENT_ID, iss: `${base}/citizen`, name: 'alice' });

    expect(await throughGateway(res.body.access_token)).toEqual({
      status: 200,
      identity: { userId: 'alice', role: 'citizen', authorityId: '' },
    });
  });

  it.each([
    ['official', 'dvd:official'],
    ['admin', 'dvd:admin'],
    ['platform-admin', 'dvd:platform-admin'],
  ])('official issuer, role %s: ES256 token with %s and authority_id; the gateway sees that role', async (role, scope) => {
    const authority = role === 'platform-admin' ? 'platform' : 'bauamt';
    const a = await authorize('official', officialForm(role, authority), {
      scope: 'openid profile offline_access dvd:official dvd:admin dvd:platform-admin',
    });
    const res = await exchange('official', a);
    expect(res.status).toBe(200);
    const claims = await verifyAccessToken('official', res.body.access_token);
    expect(claims).toMatchObject({ sub: 'mustermann', iss: `${base}/official`, aud: AUDIENCE, authority_id: authority });
    expect(String(claims.scope).split(' ')).toEqual([scope]);
    expect(res.body.scope.split(' ')).toContain(scope);
    expect(decodeJwt(res.body.id_token)).toMatchObject({ sub: 'mustermann', authority_id: authority, dvd_role: role });

    expect(await throughGateway(res.body.access_token)).toEqual({
      status: 200,
      identity: { userId: 'mustermann', role, authorityId: authority },
    });
  });

  it('the picked role decides even when the app asks for no role scope', async () => {
    const a = await authorize('official', officialForm('admin', 'ordnungsamt', 'schmidt'), { scope: 'openid' });
    const res = await exchange('official', a);
    const claims = await verifyAccessToken('official', res.body.access_token);
    expect(claims).toMatchObject({ sub: 'schmidt', authority_id: 'ordnungsamt', scope: 'dvd:admin' });
    expect((await throughGateway(res.body.access_token)).identity?.role).toBe('admin');
  });

  it('refresh_token grant: a new access token with the same identity; the refresh token rotates', async () => {
    const a = await authorize('official', officialForm('admin'), { scope: 'openid dvd:admin' });
    const first = await exchange('official', a);
    expect(first.body.refresh_token).toEqual(expect.any(String));

    const refreshed = await tokenRequest('official', {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token,
      resource: AUDIENCE,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(first.body.access_token);
    expect(refreshed.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(await verifyAccessToken('official', refreshed.body.access_token)).toMatchObject({
      sub: 'mustermann',
      authority_id: 'bauamt',
      scope: 'dvd:admin',
    });
    expect((await throughGateway(refreshed.body.access_token)).identity).toMatchObject({ role: 'admin', authorityId: 'bauamt' });

    // without `resource` the granted one is used: still a token for the API
    const again = await tokenRequest('official', { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token });
    expect(again.status).toBe(200);
    expect(await verifyAccessToken('official', again.body.access_token)).toMatchObject({ sub: 'mustermann' });

    // a rotated-away refresh token is refused
    const reused = await tokenRequest('official', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
  });

  it('refuses a wrong code_verifier, and a code used twice', async () => {
    const a = await authorize('citizen', { sub: 'bob' });
    const wrong = await exchange('citizen', a, { code_verifier: b64url(randomBytes(32)) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    expect(wrong.body.access_token).toBeUndefined();

    const b = await authorize('citizen', { sub: 'bob' });
    expect((await exchange('citizen', b)).status).toBe(200);
    const twice = await exchange('citizen', b);
    expect(twice.status).toBe(400);
    expect(twice.body.error).toBe('invalid_grant');
  });

  it('refuses an unregistered redirect_uri without redirecting to it, and a request without PKCE', async () => {
    const auth = (params: Record<string, string>) => {
      const u = new URL(String(discovery.citizen.authorization_endpoint));
      u.search = new URLSearchParams({ client_id: CLIENT_ID, response_type: 'code', scope: 'openid', ...params }).toString();
      return u.href;
    };
    const challenge = b64url(createHash('sha256').update('x'.repeat(43)).digest());
    const foreign = await new Browser().get(
      auth({ redirect_uri: 'http://127.0.0.1:9/callback', code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get('location')).toBeNull();
    const html = await foreign.text();
    expect(html).toContain('redirect_uri');
    expect(html).not.toMatch(/<script/i);
    expect(foreign.headers.get('content-security-policy')).toContain("default-src 'none'");

    const noPkce = await new Browser().get(auth({ redirect_uri: redirectUri }));
    expect(noPkce.status).toBe(303);
    const back = new URL(location(noPkce, String(discovery.citizen.authorization_endpoint)));
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('the token endpoint answers CORS requests of the web origin only', async () => {
    const a = await authorize('citizen', { sub: 'alice' });
    const ok = await exchange('citizen', a, {});
    expect(ok.status).toBe(200);
    const b = await authorize('citizen', { sub: 'alice' });
    const fromWeb = await tokenRequest(
      'citizen',
      { grant_type: 'authorization_code', code: b.code, redirect_uri: redirectUri, code_verifier: b.verifier, resource: AUDIENCE },
      { origin: webOrigin },
    );
    expect(fromWeb.status).toBe(200);
    expect(fromWeb.headers.get('access-control-allow-origin')).toBe(webOrigin);

    const c = await authorize('citizen', { sub: 'alice' });
    const fromElsewhere = await tokenRequest(
      'citizen',
      { grant_type: 'authorization_code', code: c.code, redirect_uri: redirectUri, code_verifier: c.verifier, resource: AUDIENCE },
      { origin: 'http://evil.test' },
    );
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
    expect(fromElsewhere.body.access_token).toBeUndefined();
  });

  // ---- sessions ----------------------------------------------------------------------------

  it('keeps a session (a second authorization skips the picker) until RP-initiated logout ends it', async () => {
    const a = await authorize('citizen', { sub: 'alice' });
    const tokens = await exchange('citizen', a);

    // same browser, no prompt: straight back with a code
    const auth = new URL(String(discovery.citizen.authorization_endpoint));
    const verifier = b64url(randomBytes(32));
    auth.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid profile offline_access',
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
      resource: AUDIENCE,
    }).toString();
    const sso = await a.browser.get(auth.href);
    expect(sso.status).toBe(303);
    expect(new URL(location(sso, auth.href)).searchParams.get('code')).toEqual(expect.any(String));

    // logout: a confirmation page (no script), then back to the app
    const end = new URL(String(discovery.citizen.end_session_endpoint));
    end.search = new URLSearchParams({ id_token_hint: tokens.body.id_token, post_logout_redirect_uri: `${webOrigin}/` }).toString();
    const confirm = await a.browser.get(end.href);
    expect(confirm.status).toBe(200);
    expect(confirm.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await confirm.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('Entwicklungs-IdP — nicht für den Produktivbetrieb');
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(action && xsrf).toBeTruthy();
    const done = await a.browser.post(new URL(action!, end.href).href, { xsrf: xsrf!, logout: 'yes' });
    expect(done.status).toBe(303);
    expect(location(done, end.href)).toBe(`${webOrigin}/`);

    // the session is gone: the picker again; the refresh token went with it
    const after = await a.browser.get(auth.href);
    expect(location(after, auth.href)).toMatch(/\/citizen\/interaction\//);
    const refreshed = await tokenRequest('citizen', { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token });
    expect(refreshed.status).toBe(400);
  });

  // ---- the script path ---------------------------------------------------------------------

  it('POST /token still mints tokens for every role, signed with the same keys the gateway fetches', async () => {
    const mint = async (body: Record<string, unknown>) => {
      const res = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const citizen = await mint({ role: 'citizen', sub: 'carol' });
    expect(decodeProtectedHeader(citizen)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(await throughGateway(citizen)).toEqual({ status: 200, identity: { userId: 'carol', role: 'citizen', authorityId: '' } });
    const platformAdmin = await mint({ role: 'platform-admin', sub: 'root', authority: 'platform' });
    expect(await throughGateway(platformAdmin)).toEqual({
      status: 200,
      identity: { userId: 'root', role: 'platform-admin', authorityId: 'platform' },
    });
    const badRequest = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'official' }),
    });
    expect(badRequest.status).toBe(400);
  });
});

describe('development IdP: its keys and configuration', () => {
  it('keeps its signing keys in the data folder: after a restart the JWKS is the same and earlier tokens verify', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dvd-dev-idp-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { LOG_LEVEL: 'warn', DEV_IDP_PORT: String(port), DEV_IDP_BASE_URL: base, DEV_IDP_DATA_DIR: dir };
    const jwks = async () => Promise.all(['citizen', 'official'].map(async (i) => (await fetch(`${base}/${i}/jwks.json`)).json()));
    try {
      const first = await startApp('dev-idp', port, env);
      const before = await jwks();
      const res = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'admin', authority: 'bauamt' }),
      });
      const { access_token: token } = (await res.json()) as { access_token: string };
      await first.stop();

      const second = await startApp('dev-idp', port, env);
      try {
        expect(await jwks()).toEqual(before);
        const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${base}/official/jwks.json`)), {
          issuer: `${base}/official`,
          audience: AUDIENCE,
        });
        expect(payload).toMatchObject({ authority_id: 'bauamt', scope: 'dvd:admin' });
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 150_000);

  it('stops at start with one line naming a bad DEV_IDP_WEB_REDIRECT_URIS', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'dist/apps/dev-idp/src/main.js')], {
      env: { PATH: process.env.PATH ?? '', DEV_IDP_PORT: '0', DEV_IDP_WEB_REDIRECT_URIS: 'http://127.0.0.1:3200/callback,not-a-url' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^dev-idp: Invalid configuration: DEV_IDP_WEB_REDIRECT_URIS /);
    expect(run.stderr).not.toContain('not-a-url');
  });
});
