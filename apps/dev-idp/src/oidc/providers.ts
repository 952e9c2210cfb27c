/**
 * The two OpenID providers of the development IdP (oidc-provider, one per issuer), their
 * one public client `dvd-web` (the browser app: authorization code + PKCE S256, refresh
 * tokens), JWT access tokens for the API's audience signed with the issuer's existing key,
 * and the grant a picker login leads to.
 *
 * oidc-provider is an ES module; Node 24 loads it with require(), so this CommonJS build
 * imports it like any other package.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { errors } from 'oidc-provider';
import type { Configuration, Interaction, KoaContextWithOIDC } from 'oidc-provider';
import { DevIdpConfig, baseUrlOf } from '../dev-idp.config';
import { ISSUERS, IssuerName, SigningKey } from '../key-store';
import { DVD_SCOPES, OfficialLogin, ROLE_SCOPE, SUB_PATTERN } from './accounts';
import { TtlStore, memoryAdapter } from './memory-store';
import { errorPage, logoutPage, logoutSuccessPage } from './pages';

export const WEB_CLIENT_ID = 'dvd-web';
/** Access tokens are short; the browser app refreshes them. */
export const ACCESS_TOKEN_TTL_S = 15 * 60;
/** A login lasts a working day: the IdP session, its grants and refresh tokens. */
const SESSION_TTL_S = 24 * 3600;
const OIDC_SCOPES = ['openid', 'profile', 'offline_access'];

/**
 * RFC 8707 wants an absolute URI as the `resource`, and oidc-provider refuses anything else;
 * the API's audience (AUTH_AUDIENCE, `dvd-api`) is not one. Clients send the audience as
 * `resource` anyway: the IdP turns it into this URN before oidc-provider sees the request.
 */
export function resourceIndicatorFor(audience: string): string {
  return URL.parse(audience) ? audience : `urn:dvd:audience:${encodeURIComponent(audience)}`;
}

/** The origins of the browser app (those of its redirect URIs). */
export function webOrigins(config: DevIdpConfig): string[] {
  return [...new Set(config.DEV_IDP_WEB_REDIRECT_URIS.map((u) => new URL(u).origin))];
}

export interface PickedAccount {
  sub: string;
  /** Official issuer only. */
  official?: OfficialLogin;
}

/** One issuer: its provider and what the account picker needs from it. */
export class IssuerOidc {
  readonly provider: Provider;
  readonly issuer: string;
  readonly resourceIndicator: string;
  /** Official issuer: what the picker chose beyond the user id, per grant id. */
  private readonly logins = new TtlStore<OfficialLogin>();

  constructor(
    readonly name: IssuerName,
    config: DevIdpConfig,
    key: SigningKey,
    cookieSecret: string,
  ) {
    this.issuer = `${baseUrlOf(config)}/${name}`;
    this.resourceIndicator = resourceIndicatorFor(config.AUTH_AUDIENCE);
    this.provider = new Provider(this.issuer, this.configuration(config, key, cookieSecret));
  }

  /** The scopes this issuer knows: OpenID's, and on the official issuer the role scopes. */
  get scopes(): string[] {
    return this.name === 'official' ? [...OIDC_SCOPES, ...DVD_SCOPES] : OIDC_SCOPES;
  }

  private configuration(config: DevIdpConfig, key: SigningKey, cookieSecret: string): Configuration {
    const origins = new Set(webOrigins(config));
    const official = this.name === 'official';
    const cookie = (kind: string) => `_dvd_${this.name}_${kind}`;
    return {
      adapter: memoryAdapter(),
      clients: [
        {
          client_id: WEB_CLIENT_ID,
          client_name: 'DirektVermittlungDe (Browser)',
          application_type: 'web',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: config.DEV_IDP_WEB_REDIRECT_URIS,
          post_logout_redirect_uris: [...origins].map((o) => `${o}/`),
          id_token_signed_response_alg: key.alg,
        },
      ],
      clientDefaults: { id_token_signed_response_alg: key.alg },
      clientBasedCORS: (_ctx, origin, client) => client.clientId === WEB_CLIENT_ID && origins.has(origin),
      jwks: { keys: [key.privateJwk] },
      // two providers on one host: their cookies must not share names
      cookies: {
        keys: [cookieSecret],
        names: { session: cookie('session'), interaction: cookie('interaction'), resume: cookie('interaction_resume') },
        long: { httpOnly: true, sameSite: 'lax' },
        short: { httpOnly: true, sameSite: 'lax' },
      },
      routes: { jwks: '/jwks.json' },
      scopes: this.scopes,
      claims: {
        openid: ['sub'],
        profile: ['name', 'preferred_username', ...(official ? ['authority_id', 'dvd_role'] : [])],
      },
      // the picked identity travels in the ID token too (the access token is for the API only)
      conformIdTokenClaims: false,
      responseTypes: ['code'],
      pkce: { required: () => true },
      // a refresh token for the browser app also without offline_access (which OpenID
      // honours only together with prompt=consent); it then ends with the IdP session
      issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      ttl: {
        AccessToken: ACCESS_TOKEN_TTL_S,
        AuthorizationCode: 60,
        IdToken: 3600,
        Interaction: 3600,
        Session: SESSION_TTL_S,
        Grant: SESSION_TTL_S,
        RefreshToken: SESSION_TTL_S,
      },
      features: {
        devInteractions: { enabled: false },
        revocation: { enabled: true },
        userinfo: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx: KoaContextWithOIDC, form: string) => {
            ctx.type = 'html';
            ctx.body = logoutPage(ctx.host, form);
          },
          postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => {
            ctx.type = 'html';
            ctx.body = logoutSuccessPage();
          },
        },
        resourceIndicators: {
          enabled: true,
          // a token request without `resource` gets the API token its code or refresh token was granted for
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => {
            if (indicator !== this.resourceIndicator) throw new errors.InvalidTarget();
            return {
              scope: official ? DVD_SCOPES.join(' ') : '',
              audience: config.AUTH_AUDIENCE,
              accessTokenFormat: 'jwt',
              accessTokenTTL: ACCESS_TOKEN_TTL_S,
              jwt: { sign: { alg: key.alg, kid: key.kid } },
            };
          },
        },
      },
      interactions: { url: (_ctx, interaction) => `/${this.name}/interaction/${interaction.uid}` },
      findAccount: (ctx, sub, token) => {
        if (!SUB_PATTERN.test(sub)) return undefined;
        const grantId = (token && 'grantId' in token ? token.grantId : undefined) ?? ctx.oidc.entities.Grant?.jti;
        const login = official && grantId ? this.logins.get(grantId) : undefined;
        return {
          accountId: sub,
          claims: () => ({
            sub,
            name: sub,
            preferred_username: sub,
            ...(login ? { authority_id: login.authority, dvd_role: login.role } : {}),
          }),
        };
      },
      formats: {
        customizers: {
          // official access tokens: the authority and exactly the picked role's scope
          jwt: (_ctx, token, jwt) => {
            if (!official) return;
            const grantId = 'grantId' in token ? token.grantId : undefined;
            const login = grantId ? this.logins.get(grantId) : undefined;
            if (!login) throw new errors.InvalidGrant('the login behind this grant is no longer known; log in again');
            const scopes = String(jwt.payload.scope ?? '')
              .split(' ')
              .filter((s) => s && !DVD_SCOPES.includes(s));
            jwt.payload.scope = [...scopes, ROLE_SCOPE[login.role]].join(' ');
            jwt.payload.authority_id = login.authority;
          },
        },
      },
      renderError: (ctx, out) => {
        ctx.type = 'html';
        ctx.body = errorPage('Anfrage abgelehnt', 'Der Entwicklungs-IdP hat die Anfrage abgelehnt.', {
          Fehler: out.error,
          Beschreibung: out.error_description,
        });
      },
    };
  }

  /**
   * Finishes an interaction with what the picker chose: the login, and the consent as a new
   * grant of the requested scopes (on the official issuer only the picked role's scope;
   * the other role scopes count as refused). Returns where the browser goes next.
   */
  async finish(req: IncomingMessage, res: ServerResponse, details: Interaction, account: PickedAccount): Promise<string> {
    const clientId = String(details.params.client_id);
    const requested = String(details.params.scope ?? '')
      .split(' ')
      .filter(Boolean);
    const roleScope = account.official ? ROLE_SCOPE[account.official.role] : undefined;
    const refused = requested.filter((s) => DVD_SCOPES.includes(s) && s !== roleScope);
    const granted = requested.filter((s) => this.scopes.includes(s) && !refused.includes(s));

    const grant = new this.provider.Grant({ accountId: account.sub, clientId });
    grant.addOIDCScope(granted.join(' '));
    if (refused.length) grant.rejectOIDCScope(refused.join(' '));
    const resources = ([] as unknown[]).concat(details.params.resource ?? []);
    for (const resource of resources) {
      if (resource !== this.resourceIndicator) continue;
      grant.addResourceScope(resource, granted.filter((s) => DVD_SCOPES.includes(s)).join(' '));
      if (refused.length) grant.rejectResourceScope(resource, refused.join(' '));
    }
    const grantId = await grant.save();
    if (account.official) this.logins.set(grantId, account.official, SESSION_TTL_S);
    return this.provider.interactionResult(
      req,
      res,
      { login: { accountId: account.sub }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  /** Ends an interaction as refused by the user (`access_denied` at the client). */
  abort(req: IncomingMessage, res: ServerResponse): Promise<string> {
    return this.provider.interactionResult(
      req,
      res,
      { error: 'access_denied', error_description: 'the user cancelled the login' },
      { mergeWithLastSubmission: false },
    );
  }
}

export type IssuerProviders = Record<IssuerName, IssuerOidc>;

export function createIssuerProviders(config: DevIdpConfig, keys: Record<IssuerName, SigningKey>, cookieSecret: string): IssuerProviders {
  const out = {} as IssuerProviders;
  for (const name of ISSUERS) out[name] = new IssuerOidc(name, config, keys[name], cookieSecret);
  return out;
}
