/**
 * OpenID Connect login (authorization code + PKCE, public client) with oauth4webapi.
 *
 * Tokens live in this module's memory only: never in localStorage, sessionStorage,
 * IndexedDB or a cookie, so a script injected later cannot read them from storage and a
 * closed tab leaves nothing behind. The PKCE verifier, state and nonce sit in
 * sessionStorage for the redirect round trip only and are deleted when the IdP sends the
 * browser back (before they are used). A reload ends the session in the app; the IdP's own
 * session usually makes the next login a single click.
 */
import * as oauth from 'oauth4webapi';
import type { AppConfig } from '../config';
import { apiRoleOf, issuerFor, jwtClaims, scopeFor, type ApiRole, type IssuerKind, type LoginRole } from './roles';

export interface Session {
  loginRole: LoginRole;
  issuer: IssuerKind;
  role: ApiRole;
  /** The user's `sub` (from the ID token). */
  sub: string;
  /** Officials and admins: the authority they act for (`authority_id` of the access token). */
  authorityId: string | null;
  /** A display name if the IdP sent one. */
  name: string | null;
  expiresAt: number;
}

interface Tokens {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | undefined;
  expiresAt: number;
}

export type AuthState = { status: 'anonymous'; reason?: 'expired' | 'logged-out' } | { status: 'authenticated'; session: Session };

const LOGIN_STATE_KEY = 'dvd.login';
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

interface PendingLogin {
  role: LoginRole;
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

export class LoginError extends Error {
  constructor(
    readonly code: 'state' | 'idp-refused' | 'token' | 'discovery' | 'no-login',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class Auth {
  private state: AuthState = { status: 'anonymous' };
  private tokens: Tokens | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly servers = new Map<IssuerKind, Promise<oauth.AuthorizationServer>>();
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly origin: string = window.location.origin,
  ) {}

  // ── store (useSyncExternalStore) ─────────────────────────────────────────────────────
  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  getState = (): AuthState => this.state;
  private set(state: AuthState) {
    this.state = state;
    for (const l of this.listeners) l();
  }

  get redirectUri(): string {
    return `${this.origin}/callback`;
  }
  private client(): oauth.Client {
    return { client_id: this.config.clientId, token_endpoint_auth_method: 'none' };
  }
  private issuerUrl(kind: IssuerKind): string {
    return this.config.issuers[kind];
  }
  /** http issuers are allowed for the development IdP on this machine only. */
  private insecure(kind: IssuerKind) {
    return { [oauth.allowInsecureRequests]: new URL(this.issuerUrl(kind)).protocol === 'http:' };
  }

  private server(kind: IssuerKind): Promise<oauth.AuthorizationServer> {
    let as = this.servers.get(kind);
    if (!as) {
      const issuer = new URL(this.issuerUrl(kind));
      as = oauth
        .discoveryRequest(issuer, { algorithm: 'oidc', ...this.insecure(kind) })
        .then((res) => oauth.processDiscoveryResponse(issuer, res))
        .catch((err: unknown) => {
          this.servers.delete(kind);
          throw new LoginError('discovery', 'the identity provider could not be reached', { cause: err });
        });
      this.servers.set(kind, as);
    }
    return as;
  }

  /** Sends the browser to the IdP. `returnTo`: the app path to show after the login. */
  async login(role: LoginRole, o: { returnTo?: string; locale?: string } = {}): Promise<void> {
    const kind = issuerFor(role);
    const as = await this.server(kind);
    if (!as.authorization_endpoint) throw new LoginError('discovery', 'the identity provider has no authorization endpoint');
    const pending: PendingLogin = {
      role,
      verifier: oauth.generateRandomCodeVerifier(),
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
      returnTo: o.returnTo && o.returnTo.startsWith('/') && !o.returnTo.startsWith('//') ? o.returnTo : '',
    };
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', scopeFor(role));
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(pending.verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', pending.state);
    url.searchParams.set('nonce', pending.nonce);
    url.searchParams.set('resource', this.config.audience);
    if (o.locale) url.searchParams.set('ui_locales', o.locale);
    sessionStorage.setItem(LOGIN_STATE_KEY, JSON.stringify(pending));
    window.location.assign(url.toString());
  }

  /** Handles the IdP's redirect to /callback; resolves with the path to show next. */
  async completeLogin(currentUrl: URL): Promise<string> {
    const raw = sessionStorage.getItem(LOGIN_STATE_KEY);
    // one use only, whatever happens next
    sessionStorage.removeItem(LOGIN_STATE_KEY);
    if (!raw) throw new LoginError('no-login', 'no login was started in this tab');
    const pending = JSON.parse(raw) as PendingLogin;
    const kind = issuerFor(pending.role);
    const as = await this.server(kind);
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, this.client(), currentUrl, pending.state);
    } catch (err) {
      if (err instanceof oauth.AuthorizationResponseError) throw new LoginError('idp-refused', err.error, { cause: err });
      throw new LoginError('state', 'the answer of the identity provider does not belong to this login', { cause: err });
    }
    try {
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        this.client(),
        oauth.None(),
        params,
        this.redirectUri,
        pending.verifier,
        {
          additionalParameters: { resource: this.config.audience },
          ...this.insecure(kind),
        },
      );
      const result = await oauth.processAuthorizationCodeResponse(as, this.client(), response, {
        expectedNonce: pending.nonce,
        requireIdToken: true,
      });
      this.accept(pending.role, result);
    } catch (err) {
      throw new LoginError('token', 'the login could not be completed', { cause: err });
    }
    const state = this.state;
    if (state.status !== 'authenticated') throw new LoginError('token', 'no session');
    return pending.returnTo || '';
  }

  private accept(role: LoginRole, result: oauth.TokenEndpointResponse, previous?: Session) {
    const kind = issuerFor(role);
    const claims = jwtClaims(result.access_token) ?? {};
    const idClaims = oauth.getValidatedIdTokenClaims(result);
    const expiresAt =
      typeof result.expires_in === 'number'
        ? Date.now() + result.expires_in * 1000
        : typeof claims.exp === 'number'
          ? claims.exp * 1000
          : Date.now() + 5 * 60_000;
    this.tokens = {
      accessToken: result.access_token,
      refreshToken: result.refresh_token ?? this.tokens?.refreshToken,
      idToken: result.id_token ?? this.tokens?.idToken,
      expiresAt,
    };
    const scope = typeof claims.scope === 'string' ? claims.scope : result.scope;
    const sub = idClaims?.sub ?? (typeof claims.sub === 'string' ? claims.sub : previous?.sub);
    if (!sub) throw new LoginError('token', 'the identity provider sent no subject');
    const name = idClaims && typeof idClaims.name === 'string' ? idClaims.name : (previous?.name ?? null);
    const session: Session = {
      loginRole: role,
      issuer: kind,
      role: apiRoleOf(kind, scope),
      sub,
      authorityId: typeof claims.authority_id === 'string' ? claims.authority_id : (previous?.authorityId ?? null),
      name,
      expiresAt,
    };
    this.set({ status: 'authenticated', session });
    this.scheduleRefresh();
  }

  private scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    if (!this.tokens?.refreshToken) return;
    const wait = Math.max(5_000, this.tokens.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    this.refreshTimer = setTimeout(() => void this.refresh().catch(() => undefined), wait);
  }

  /** Exchanges the refresh token for new tokens (one at a time); ends the session if the IdP refuses. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const state = this.state;
    if (state.status !== 'authenticated' || !this.tokens) return;
    const { session } = state;
    const refreshToken = this.tokens.refreshToken;
    if (!refreshToken) {
      this.expire();
      return;
    }
    try {
      const as = await this.server(session.issuer);
      const response = await oauth.refreshTokenGrantRequest(as, this.client(), oauth.None(), refreshToken, {
        additionalParameters: { resource: this.config.audience },
        ...this.insecure(session.issuer),
      });
      const result = await oauth.processRefreshTokenResponse(as, this.client(), response);
      this.accept(session.loginRole, result, session);
    } catch (err) {
      // refused (revoked, expired) → log in again; a network error leaves the token until it expires
      if (err instanceof oauth.ResponseBodyError || Date.now() >= this.tokens.expiresAt) this.expire();
      else this.scheduleRetry();
      throw err;
    }
  }

  private scheduleRetry() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh().catch(() => undefined), 10_000);
  }

  private expire() {
    clearTimeout(this.refreshTimer);
    this.tokens = undefined;
    this.set({ status: 'anonymous', reason: 'expired' });
  }

  /** The current access token, refreshed first when it is about to expire. For the SDK's `token` option. */
  accessToken = async (): Promise<string> => {
    if (this.tokens && this.tokens.expiresAt - Date.now() < 15_000 && this.tokens.refreshToken) {
      await this.refresh().catch(() => undefined);
    }
    if (!this.tokens) throw new LoginError('no-login', 'not logged in');
    return this.tokens.accessToken;
  };

  /** The API answered 401: the token is no longer accepted. Try a refresh once, else end the session. */
  async unauthorized(): Promise<boolean> {
    if (!this.tokens?.refreshToken) {
      this.expire();
      return false;
    }
    try {
      await this.refresh();
      return this.state.status === 'authenticated';
    } catch {
      return false;
    }
  }

  /** Forgets the tokens and ends the IdP session (RP-initiated logout) when the IdP offers it. */
  async logout(): Promise<void> {
    const state = this.state;
    const idToken = this.tokens?.idToken;
    clearTimeout(this.refreshTimer);
    this.tokens = undefined;
    this.set({ status: 'anonymous', reason: 'logged-out' });
    if (state.status !== 'authenticated') return;
    let endSession: string | undefined;
    try {
      endSession = (await this.server(state.session.issuer)).end_session_endpoint;
    } catch {
      endSession = undefined;
    }
    if (!endSession) return;
    const url = new URL(endSession);
    url.searchParams.set('client_id', this.config.clientId);
    if (idToken) url.searchParams.set('id_token_hint', idToken);
    url.searchParams.set('post_logout_redirect_uri', `${this.origin}/`);
    window.location.assign(url.toString());
  }
}
