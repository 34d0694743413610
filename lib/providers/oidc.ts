/**
 * Any OAuth 2.0 / OpenID Connect issuer: its endpoints from discovery
 * (OpenID Connect discovery, else RFC 8414) and its grants (authorization
 * code with the RFC 9207 `iss` and id_token checks, refresh, device code,
 * RFC 7009 revocation), all through oauth4webapi.
 * @module
 */
import * as oauth from "npm:oauth4webapi@^3";
import type { DeviceCode, DeviceGrant, TokenSet } from "../core/types.ts";
import { devicePollAnswer } from "./device_answer.ts";
import { LoopauthError, sessionExpired } from "../core/errors.ts";
import { fetchBounded, networkError } from "../core/http.ts";
import { terminalSafe } from "../core/text.ts";
import { isBearerToken, NOT_A_BEARER_TOKEN } from "../core/token_syntax.ts";
import { isLoopbackHost } from "../core/loopback.ts";
import { issuerApiUrl, parseIssuerUrl } from "./issuer_url.ts";
import type { Provider, ProviderClient, ProviderOptions } from "./provider.ts";

/** An issuer whose metadata was fetched and checked. */
export interface OidcIssuer {
  /** The issuer identifier, exactly as its metadata says; accounts are stored under it. */
  key: string;
  /** The authorization server metadata (RFC 8414 / OpenID Connect discovery). */
  metadata: IssuerMetadata;
  /** Whether the issuer is a loopback `http://` one (tests, local servers). */
  insecure: boolean;
}

/** The metadata fields loopauth uses (the whole document is kept). */
export interface IssuerMetadata {
  /** The issuer identifier. */
  readonly issuer: string;
  /** Where the browser is sent. */
  readonly authorization_endpoint?: string;
  /** Where codes and refresh tokens are redeemed. */
  readonly token_endpoint?: string;
  /** The signing keys of id_tokens. */
  readonly jwks_uri?: string;
  /** OpenID Connect userinfo. */
  readonly userinfo_endpoint?: string;
  /** RFC 7009 token revocation. */
  readonly revocation_endpoint?: string;
  /** RFC 8628 device authorization. */
  readonly device_authorization_endpoint?: string;
  /** Scopes the issuer knows (`openid` for OpenID Connect). */
  readonly scopes_supported?: readonly string[];
  /** PKCE methods; loopauth needs `S256`. */
  readonly code_challenge_methods_supported?: readonly string[];
  /** Client authentication methods of the token endpoint. */
  readonly token_endpoint_auth_methods_supported?: readonly string[];
  /** RFC 9207: the callback carries `iss`. */
  readonly authorization_response_iss_parameter_supported?: boolean;
}

/**
 * The metadata's endpoints loopauth (or oauth4webapi for it) may send a
 * request or a browser to; each must be https, or http on a loopback address
 * for a loopback issuer.
 */
const ENDPOINTS = [
  "authorization_endpoint",
  "token_endpoint",
  "userinfo_endpoint",
  "revocation_endpoint",
  "device_authorization_endpoint",
  "jwks_uri",
] as const;
const REQUIRED: ReadonlySet<string> = new Set(["authorization_endpoint", "token_endpoint"]);

/** Options of {@linkcode discoverIssuer}. */
export interface DiscoverIssuerOptions {
  /** Aborting cancels the request. */
  signal?: AbortSignal;
  /** Continue (with `onWarning`) when the metadata does not list PKCE S256. */
  allowNoPkceMetadata?: boolean;
  /** Called with a one-line warning. */
  onWarning?: (message: string) => void;
}

/** The client an issuer's grants run for: a provider's (./provider.ts). */
export type IssuerClient = ProviderClient;

/**
 * Fetches and checks an issuer's metadata: OpenID Connect discovery, else
 * RFC 8414; its `issuer` must equal the URL, and it must list PKCE S256
 * (unless `allowNoPkceMetadata`, which warns).
 *
 * @throws {LoopauthError} `usage` for a bad URL, `oauth` (`reason`: `metadata_invalid`,
 * `issuer_mismatch`, `pkce_unsupported`) or `network`
 *
 * @example
 * ```ts ignore
 * import { discoverIssuer } from "./oidc.ts";
 * const issuer = await discoverIssuer("https://id.example.com");
 * console.log(issuer.metadata.token_endpoint);
 * ```
 */
export async function discoverIssuer(
  input: string,
  options: DiscoverIssuerOptions = {},
): Promise<OidcIssuer> {
  const url = parseIssuerUrl(input);
  const insecure = url.protocol === "http:";
  const shown = terminalSafe(url.href, { max: 120 });
  const http = requestOptions({ key: shown, insecure }, options.signal);
  let metadata: oauth.AuthorizationServer | undefined;
  for (const algorithm of ["oidc", "oauth2"] as const) {
    const response = await wrap(
      () => oauth.discoveryRequest(url, { ...http, algorithm }),
      shown,
      options.signal,
    );
    if (response.status === 404 && algorithm === "oidc") continue;
    try {
      metadata = await oauth.processDiscoveryResponse(url, response);
    } catch (error) {
      throw metadataError(error, shown, response.status);
    }
    break;
  }
  if (!metadata) {
    throw new LoopauthError("oauth", `No metadata at ${shown}: check --issuer`, {
      reason: "metadata_invalid",
    });
  }
  for (const field of ENDPOINTS) {
    const value = metadata[field];
    if (value === undefined && !REQUIRED.has(field)) continue;
    if (typeof value !== "string") {
      throw new LoopauthError(
        "oauth",
        `The metadata of ${shown} has no ${field}: check --issuer`,
        { reason: "metadata_invalid" },
      );
    }
    // Every endpoint, not only the two loopauth cannot do without: a userinfo or
    // revocation endpoint gets a token too.
    const endpoint = parseEndpoint(value, insecure);
    if (!endpoint) {
      throw new LoopauthError(
        "oauth",
        `The metadata of ${shown} has an invalid ${field} (https:// needed): check --issuer`,
        { reason: "metadata_invalid" },
      );
    }
  }
  if (!metadata.code_challenge_methods_supported?.includes("S256")) {
    const message = `${shown} does not advertise PKCE S256 support`;
    if (!options.allowNoPkceMetadata) {
      throw new LoopauthError(
        "oauth",
        `${message}: if it supports PKCE anyway, pass --allow-no-pkce-metadata`,
        { reason: "pkce_unsupported" },
      );
    }
    options.onWarning?.(`${message}; sending PKCE S256 anyway (--allow-no-pkce-metadata)`);
  }
  return { key: metadata.issuer, metadata, insecure };
}

/**
 * The login name to store and show from id_token (or userinfo) claims:
 * `preferred_username`, else `email`, else `sub`, without any control or
 * format character, line separator or quote (the name ends up in
 * terminals, keychain commands and git's credential lines), at most 100
 * characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loginNameFromClaims } from "./oidc.ts";
 * const claims = { sub: "248289761001", email: "jane@example.com" };
 * assert.equal(loginNameFromClaims(claims), "jane@example.com");
 * assert.equal(loginNameFromClaims({ preferred_username: 'jane"\n\x1b[2J' }), "jane[2J");
 * ```
 */
export function loginNameFromClaims(claims: Record<string, unknown>): string | undefined {
  for (const name of ["preferred_username", "email", "sub"]) {
    const value = claims[name];
    if (typeof value !== "string") continue;
    const clean = value.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}"'`]/gu, "").trim();
    if (clean) return [...clean].slice(0, 100).join("");
  }
  return undefined;
}

/**
 * The user's claims from the issuer's `userinfo_endpoint`; `undefined` when
 * it has none.
 *
 * @example
 * ```ts ignore
 * import { discoverIssuer, fetchUserClaims } from "./oidc.ts";
 * const issuer = await discoverIssuer("https://id.example.com");
 * const claims = await fetchUserClaims(issuer, "access-token", { clientId: "cli" });
 * ```
 */
export async function fetchUserClaims(
  issuer: OidcIssuer,
  accessToken: string,
  options: IssuerClient,
): Promise<Record<string, unknown> | undefined> {
  if (typeof issuer.metadata.userinfo_endpoint !== "string") return undefined;
  const client: oauth.Client = { client_id: options.clientId };
  return await wrap(
    async () => {
      const response = await oauth.userInfoRequest(
        server(issuer),
        client,
        accessToken,
        requestOptions(issuer, options.signal),
      );
      return {
        ...(await oauth.processUserInfoResponse(
          server(issuer),
          client,
          oauth.skipSubjectCheck,
          response,
        )),
      };
    },
    issuer.key,
    options.signal,
  );
}

/** Options of {@linkcode exchangeIssuerCode}. */
export interface ExchangeIssuerCodeOptions extends IssuerClient {
  /** Every query parameter of the callback (its `iss` is checked again here). */
  params: URLSearchParams;
  /** The redirect URI the code was issued for. */
  redirectUri: string;
  /** The PKCE verifier. */
  codeVerifier: string;
  /** The `nonce` sent with an `openid` request: an id_token is then required and checked. */
  nonce?: string;
}

/** Tokens from an issuer, with the id_token's claims when there was one. */
export interface IssuerTokens {
  /** The tokens, as stored. */
  tokens: TokenSet;
  /** The validated id_token claims (signature, `iss`, `aud`, `exp`, `nonce`). */
  claims?: Record<string, unknown>;
}

/**
 * Redeems an authorization code: checks the callback (`iss` per RFC 9207),
 * sends the code with the PKCE verifier, and validates the id_token
 * (signature against the issuer's JWKS, `iss`, `aud`, `exp`, `nonce`).
 *
 * @example
 * ```ts ignore
 * import { discoverIssuer, exchangeIssuerCode } from "./oidc.ts";
 * const issuer = await discoverIssuer("https://id.example.com");
 * const { tokens, claims } = await exchangeIssuerCode(issuer, {
 *   clientId: "cli", params: new URLSearchParams("code=abc&iss=https%3A%2F%2Fid.example.com"),
 *   redirectUri: "http://127.0.0.1:8000/callback", codeVerifier: "…", nonce: "…",
 * });
 * ```
 */
export async function exchangeIssuerCode(
  issuer: OidcIssuer,
  options: ExchangeIssuerCodeOptions,
): Promise<IssuerTokens> {
  const metadata = server(issuer);
  const client: oauth.Client = { client_id: options.clientId };
  const auth = clientAuth(issuer, options.clientSecret);
  return await wrap(
    async () => {
      // The callback server checked `state` in constant time already.
      const params = oauth.validateAuthResponse(
        metadata,
        client,
        options.params,
        oauth.skipStateCheck,
      );
      const response = await oauth.authorizationCodeGrantRequest(
        metadata,
        client,
        auth,
        params,
        options.redirectUri,
        options.codeVerifier,
        requestOptions(issuer, options.signal),
      );
      const result = await oauth.processAuthorizationCodeResponse(metadata, client, response, {
        expectedNonce: options.nonce ?? oauth.expectNoNonce,
        requireIdToken: options.nonce !== undefined,
      });
      const claims = oauth.getValidatedIdTokenClaims(result);
      if (claims) {
        await oauth.validateApplicationLevelSignature(
          metadata,
          response,
          requestOptions(issuer, options.signal),
        );
      }
      return {
        tokens: tokenSet(result, issuer.key),
        ...(claims ? { claims: { ...claims } } : {}),
      };
    },
    issuer.key,
    options.signal,
  );
}

/**
 * Spends a refresh token at the issuer's token endpoint; a refused one
 * (`invalid_grant`) is a `session_expired` error.
 *
 * @example
 * ```ts ignore
 * import { discoverIssuer, refreshIssuerTokens } from "./oidc.ts";
 * const issuer = await discoverIssuer("https://id.example.com");
 * const tokens = await refreshIssuerTokens(issuer, "refresh-token", { clientId: "cli" });
 * ```
 */
export async function refreshIssuerTokens(
  issuer: OidcIssuer,
  refreshToken: string,
  options: IssuerClient,
): Promise<TokenSet> {
  return await wrap(
    async () => {
      const { as, client, auth, request } = callParts(issuer, options);
      const response = await oauth.refreshTokenGrantRequest(
        as,
        client,
        auth,
        refreshToken,
        request,
      );
      try {
        return tokenSet(await oauth.processRefreshTokenResponse(as, client, response), issuer.key);
      } catch (error) {
        if (error instanceof oauth.ResponseBodyError && error.error === "invalid_grant") {
          throw sessionExpired(issuer.key, {
            issuer: true,
            cause: error,
            status: error.status,
            oauthError: error.error,
          });
        }
        throw error;
      }
    },
    issuer.key,
    options.signal,
  );
}

/**
 * Revokes a token with RFC 7009 at the issuer's `revocation_endpoint`; an
 * `oauth` error when the issuer has none.
 *
 * @example
 * ```ts ignore
 * import { discoverIssuer, revokeIssuerToken } from "./oidc.ts";
 * const issuer = await discoverIssuer("https://id.example.com");
 * await revokeIssuerToken(issuer, "access-token", { clientId: "cli" });
 * ```
 */
export async function revokeIssuerToken(
  issuer: OidcIssuer,
  token: string,
  options: IssuerClient,
): Promise<void> {
  if (typeof issuer.metadata.revocation_endpoint !== "string") {
    throw new LoopauthError(
      "revoke_failed",
      `${issuer.key} advertises no revocation_endpoint`,
    );
  }
  await wrap(
    async () => {
      const { as, client, auth, request } = callParts(issuer, options);
      const response = await oauth.revocationRequest(as, client, auth, token, request);
      await oauth.processRevocationResponse(response);
    },
    issuer.key,
    options.signal,
  );
}

/**
 * The issuer's device authorization grant (RFC 8628), when its metadata
 * has a `device_authorization_endpoint`; `undefined` otherwise.
 *
 * @example
 * ```ts ignore
 * import { discoverIssuer, issuerDeviceGrant } from "./oidc.ts";
 * const issuer = await discoverIssuer("https://id.example.com");
 * const grant = issuerDeviceGrant(issuer, { clientId: "cli" });
 * if (grant) console.log((await grant.request({ scopes: ["openid"] })).userCode);
 * ```
 */
export function issuerDeviceGrant(
  issuer: OidcIssuer,
  options: Omit<IssuerClient, "signal">,
): DeviceGrant | undefined {
  if (typeof issuer.metadata.device_authorization_endpoint !== "string") return undefined;
  const metadata = server(issuer);
  const client: oauth.Client = { client_id: options.clientId };
  const auth = () => clientAuth(issuer, options.clientSecret);
  return {
    request: ({ scopes, signal }) =>
      wrap(
        async () => {
          const response = await oauth.deviceAuthorizationRequest(
            metadata,
            client,
            auth(),
            scopes?.length ? { scope: scopes.join(" ") } : {},
            requestOptions(issuer, signal),
          );
          const code = await oauth.processDeviceAuthorizationResponse(metadata, client, response);
          const device: DeviceCode = {
            deviceCode: code.device_code,
            userCode: terminalSafe(code.user_code, { max: 40 }),
            verificationUri: new URL(code.verification_uri).href,
            expiresIn: code.expires_in,
            interval: code.interval ?? 5,
          };
          if (code.verification_uri_complete) {
            device.verificationUriComplete = new URL(code.verification_uri_complete).href;
          }
          return device;
        },
        issuer.key,
        signal,
      ),
    poll: (deviceCode, { signal }) =>
      wrap(
        async () => {
          const response = await oauth.deviceCodeGrantRequest(
            metadata,
            client,
            auth(),
            deviceCode,
            requestOptions(issuer, signal),
          );
          try {
            const result = await oauth.processDeviceCodeResponse(metadata, client, response);
            return { status: "done", tokens: tokenSet(result, issuer.key) } as const;
          } catch (error) {
            if (!(error instanceof oauth.ResponseBodyError)) throw error;
            return devicePollAnswer({
              oauthError: error.error,
              status: error.status,
              cause: error,
            });
          }
        },
        issuer.key,
        signal,
      ),
  };
}

/** The metadata as oauth4webapi takes it. */
function server(issuer: OidcIssuer): oauth.AuthorizationServer {
  return issuer.metadata as oauth.AuthorizationServer;
}

/** An endpoint URL, when it is https (or http on a loopback issuer). */
function parseEndpoint(value: string, insecure: boolean): URL | undefined {
  try {
    const url = new URL(value);
    if (url.protocol === "https:") return url;
    return insecure && url.protocol === "http:" && isLoopbackHost(url.hostname) ? url : undefined;
  } catch {
    return undefined;
  }
}

/** What every oauth4webapi request of a client to an issuer takes. */
function callParts(issuer: OidcIssuer, options: IssuerClient): {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  auth: oauth.ClientAuth;
  request: ReturnType<typeof requestOptions>;
} {
  return {
    as: server(issuer),
    client: { client_id: options.clientId },
    auth: clientAuth(issuer, options.clientSecret),
    request: requestOptions(issuer, options.signal),
  };
}

/**
 * The client authentication the metadata allows: none for a public client;
 * `client_secret_basic` (RFC 8414's default) else `client_secret_post`.
 */
function clientAuth(issuer: OidcIssuer, secret: string | undefined): oauth.ClientAuth {
  if (!secret) return oauth.None();
  const methods = issuer.metadata.token_endpoint_auth_methods_supported;
  if (!methods || methods.includes("client_secret_basic")) return oauth.ClientSecretBasic(secret);
  if (methods.includes("client_secret_post")) return oauth.ClientSecretPost(secret);
  throw new LoopauthError(
    "oauth",
    `${issuer.key} supports neither client_secret_basic nor client_secret_post: register a public client and drop --client-secret`,
  );
}

/** oauth4webapi's HTTP options: bounded fetch, http only for a loopback issuer. */
function requestOptions(
  issuer: Pick<OidcIssuer, "key" | "insecure">,
  signal: AbortSignal | undefined,
): {
  [oauth.customFetch]: (url: string, init: FetchInit) => Promise<Response>;
  [oauth.allowInsecureRequests]?: boolean;
} {
  return {
    [oauth.customFetch]: (url, init) => {
      // allowInsecureRequests lets oauth4webapi use http for every URL: the rule is kept here,
      // for each request, before a byte is sent.
      if (!parseEndpoint(url, issuer.insecure)) {
        throw new LoopauthError(
          "oauth",
          `Refusing to send a request to ${
            terminalSafe(url, { max: 120 })
          } for ${issuer.key}: only https://, or http:// on a loopback address, may be used`,
        );
      }
      return fetchBounded(url, {
        method: init.method,
        headers: init.headers,
        body: init.body as BodyInit | undefined,
      }, { signal, what: `${new URL(url).origin} (issuer ${issuer.key})` });
    },
    ...(issuer.insecure ? { [oauth.allowInsecureRequests]: true } : {}),
  };
}

/** What oauth4webapi hands its `customFetch` (every method and body type). */
interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** Runs `fn`, turning oauth4webapi's errors into one clear `LoopauthError`. */
async function wrap<T>(fn: () => Promise<T> | T, key: string, signal?: AbortSignal): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw issuerError(error, key, signal);
  }
}

function issuerError(error: unknown, key: string, signal?: AbortSignal): LoopauthError {
  if (error instanceof LoopauthError) return error;
  const detail = (e: { message: string }) =>
    terminalSafe(e.message.replace(/"/g, ""), { max: 160 });
  if (error instanceof oauth.AuthorizationResponseError) {
    return new LoopauthError(
      "oauth",
      `${key} refused the authorization (${terminalSafe(error.error, { max: 60 })})`,
      { cause: error, oauthError: error.error },
    );
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const [challenge] = error.cause;
    const reason = challenge?.parameters.error
      ? ` (${terminalSafe(challenge.parameters.error, { max: 60 })})`
      : "";
    return new LoopauthError(
      "oauth",
      `${key} refused the token with HTTP ${error.status}${reason}: log in again`,
      { cause: error, status: error.status, oauthError: challenge?.parameters.error },
    );
  }
  if (error instanceof oauth.ResponseBodyError) {
    const description = error.error_description
      ? `: ${terminalSafe(error.error_description, { max: 200 })}`
      : "";
    return new LoopauthError(
      error.error === "access_denied" ? "access_denied" : "oauth",
      `${key} refused the request (${terminalSafe(error.error, { max: 60 })})${description}`,
      { cause: error, status: error.status, oauthError: error.error },
    );
  }
  if (error instanceof oauth.OperationProcessingError) {
    const cause = error.cause as { jwks_uri?: URL } | undefined;
    if (
      error.code === oauth.KEY_SELECTION || cause?.jwks_uri ||
      /jwks|JWK|JSON Web Key|signature/i.test(error.message)
    ) {
      return new LoopauthError(
        "oauth",
        `The id_token of ${key} could not be checked against its JWKS (${
          detail(error)
        }): check the issuer's jwks_uri`,
        { cause: error, reason: "id_token_invalid" },
      );
    }
    if (error.code === oauth.JWT_CLAIM_COMPARISON || error.code === oauth.JWT_TIMESTAMP_CHECK) {
      return new LoopauthError(
        "oauth",
        `The id_token of ${key} failed validation (${detail(error)}): nothing was stored`,
        { cause: error, reason: "id_token_invalid" },
      );
    }
    if (/"iss"|issuer/.test(error.message)) {
      return new LoopauthError(
        "oauth",
        `The response did not come from ${key} (${detail(error)}): nothing was stored`,
        { cause: error, reason: "issuer_mismatch" },
      );
    }
    return new LoopauthError("oauth", `Unexpected answer from ${key}: ${detail(error)}`, {
      cause: error,
    });
  }
  if (
    error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_INVALID")
  ) {
    return new LoopauthError("oauth", `Cannot use ${key}: ${detail(error)}`, { cause: error });
  }
  if (error instanceof oauth.UnsupportedOperationError) {
    return new LoopauthError("oauth", `Unsupported by loopauth for ${key}: ${detail(error)}`, {
      cause: error,
    });
  }
  return networkError(error, key, signal);
}

function metadataError(error: unknown, shown: string, status: number): LoopauthError {
  const answer = { cause: error, status };
  if (error instanceof oauth.OperationProcessingError) {
    if (error.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
      const found = (error.cause as { body?: { issuer?: unknown } })?.body?.issuer;
      return new LoopauthError(
        "oauth",
        `The metadata of ${shown} names another issuer (${
          terminalSafe(String(found), { max: 120 })
        }): give exactly that URL to --issuer`,
        { ...answer, reason: "issuer_mismatch" },
      );
    }
    if (error.code === oauth.RESPONSE_IS_NOT_CONFORM) {
      return new LoopauthError(
        "oauth",
        `No OAuth metadata at ${shown} (HTTP ${status}): check --issuer`,
        { ...answer, reason: "metadata_invalid" },
      );
    }
  }
  return new LoopauthError(
    "oauth",
    `The metadata of ${shown} is malformed: check --issuer`,
    { ...answer, reason: "metadata_invalid" },
  );
}

/** oauth4webapi's token response as loopauth stores it; an access token that is no bearer token is refused. */
function tokenSet(response: oauth.TokenEndpointResponse, key: string): TokenSet {
  if (!isBearerToken(response.access_token)) {
    throw new LoopauthError(
      "oauth",
      `The access token from ${key} ${NOT_A_BEARER_TOKEN}: nothing was stored`,
      { reason: "token_invalid" },
    );
  }
  const tokens: TokenSet = {
    accessToken: response.access_token,
    tokenType: response.token_type,
    scopes: typeof response.scope === "string" ? response.scope.split(" ").filter(Boolean) : [],
  };
  if (typeof response.expires_in === "number" && response.expires_in > 0) {
    tokens.expiresAt = new Date(Date.now() + response.expires_in * 1000).toISOString();
  }
  if (response.refresh_token) tokens.refreshToken = response.refresh_token;
  return tokens;
}

/**
 * Any OAuth 2.0 / OpenID Connect issuer as a {@linkcode Provider}. Its
 * metadata is fetched once, on first use (an API call needs none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { issuerProvider } from "./oidc.ts";
 * const issuer = issuerProvider("https://id.example.com");
 * assert.equal(issuer.settingsUrl, "https://id.example.com");
 * ```
 */
export function issuerProvider(key: string, options: ProviderOptions = {}): Provider {
  let discovered: Promise<OidcIssuer> | undefined;
  let known: OidcIssuer | undefined;
  const issuer = () => discovered ??= discoverIssuer(key, options).then((found) => known = found);
  const name = async (
    token: TokenSet,
    client: IssuerClient,
    claims?: Record<string, unknown>,
  ) =>
    loginNameFromClaims(
      claims ?? await fetchUserClaims(await issuer(), token.accessToken, client) ?? {},
    ) ?? "default";
  return {
    // As given until discovery; then exactly as the metadata names it (accounts are stored so).
    get key() {
      return known?.key ?? key;
    },
    // The issuer's origin, and its authorization endpoint's once the metadata is known.
    get origins() {
      const endpoint = known?.metadata.authorization_endpoint;
      return [
        ...new Set([this.key, ...(endpoint ? [endpoint] : [])].map((u) => new URL(u).origin)),
      ];
    },
    settingsUrl: key,
    authorize: async (client, given) => {
      const found = await issuer();
      // OpenID Connect by default when the issuer speaks it: an id_token names the user.
      const scopes = given.length || !found.metadata.scopes_supported?.includes("openid")
        ? given
        : ["openid"];
      const nonce = scopes.includes("openid") ? oauth.generateRandomNonce() : undefined;
      const params: Record<string, string> = nonce ? { nonce } : {};
      return {
        endpoint: found.metadata.authorization_endpoint!,
        scopes,
        params,
        expectedIss: found.metadata.authorization_response_iss_parameter_supported
          ? found.key
          : undefined,
        redeem: async (response, { signal } = {}) => {
          const { tokens, claims } = await exchangeIssuerCode(found, {
            ...client,
            params: response.params,
            redirectUri: response.redirectUri,
            codeVerifier: response.codeVerifier,
            nonce,
            signal,
          });
          return { token: tokens, name: await name(tokens, { ...client, signal }, claims) };
        },
      };
    },
    device: async (client) => issuerDeviceGrant(await issuer(), client),
    name: (token, client) => name(token, client),
    refresh: async (refreshToken, client) =>
      await refreshIssuerTokens(await issuer(), refreshToken, client),
    revoke: async (token, client) => {
      const found = await issuer();
      // RFC 7009: revoking the refresh token ends the grant; the access token too, for
      // servers that keep them apart.
      if (token.refreshToken) await revokeIssuerToken(found, token.refreshToken, client);
      await revokeIssuerToken(found, token.accessToken, client);
    },
    check: async (accessToken, client) => {
      try {
        const claims = await fetchUserClaims(await issuer(), accessToken, {
          clientId: client.clientId,
          signal: client.signal,
        });
        return claims ? { state: "valid" } : { state: "unchecked", detail: "no userinfo endpoint" };
      } catch (error) {
        if (!(error instanceof LoopauthError)) throw error;
        if (error.code === "network") return { state: "unreachable", detail: error.message };
        if (error.status === 401) return { state: "invalid" };
        return { state: "error", detail: error.message };
      }
    },
    request: async (path, call) => {
      // The URL first: a malformed --base or PATH is a usage error before any token is read.
      const url = issuerApiUrl(path, { issuer: key, base: call.base });
      const token = await call.token();
      const { method, fields } = call;
      const hasBody = method !== "GET" && method !== "HEAD" && Object.keys(fields).length > 0;
      if (!hasBody) { for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v); }
      const response = await fetchBounded(url.href, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          ...(hasBody ? { "Content-Type": "application/json" } : {}),
        },
        body: hasBody ? JSON.stringify(fields) : undefined,
      }, { signal: call.signal, what: url.host });
      const text = await response.text();
      if (!response.ok) {
        throw new LoopauthError(
          "api",
          `${url.host} answered HTTP ${response.status} for ${method} ${
            terminalSafe(url.pathname, { max: 100 })
          }${response.status === 401 ? ": run loopauth login --issuer " + key : ""}`,
          { status: response.status },
        );
      }
      if (text === "") return undefined;
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    },
  };
}
