/**
 * A protected resource as a {@linkcode Provider} (RFC 9728 + RFC 8707): the
 * authorization server its metadata named, the client chosen for it, and
 * the `resource` parameter on the authorization request and every token
 * request. Built by `ops/resource_login.ts` once discovery is done.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import type { TokenSet } from "../core/types.ts";
import { terminalSafe } from "../core/text.ts";
import type { AuthorizationServer } from "./authorization_server.ts";
import type { ResourceClient } from "./resource_client.ts";
import { requestToken } from "./resource_token.ts";
import type { Provider } from "./provider.ts";
import { fetchResource } from "./resource_url.ts";

/** What a resource login settled before its flow. */
export interface ResourceTarget {
  /** The resource's canonical URI (accounts are stored under it). */
  resource: string;
  /** The RFC 8707 `resource` to send; `undefined` omits it (servers that reject it). */
  resourceParam?: string;
  /** The authorization server, checked. */
  server: AuthorizationServer;
  /** The client, with its token endpoint authentication. */
  client: ResourceClient;
}

/** The name a resource account is stored under: a resource names no user. */
export const RESOURCE_LOGIN_NAME = "user";

/**
 * The provider of one resource login.
 *
 * @example
 * ```ts
 * import { resourceProvider } from "./resource_provider.ts";
 * const provider = resourceProvider({
 *   resource: "https://mcp.example.com/mcp",
 *   resourceParam: "https://mcp.example.com/mcp",
 *   server: {
 *     issuer: "https://auth.example.com",
 *     authorizationEndpoint: "https://auth.example.com/authorize",
 *     tokenEndpoint: "https://auth.example.com/token",
 *     clientIdMetadataDocumentSupported: false,
 *     issParameterSupported: true,
 *   },
 *   client: { clientId: "c", authMethod: "none", source: "given" },
 * });
 * const authorization = await provider.authorize({ clientId: "c" }, ["mcp:basic"]);
 * console.log(authorization.params.resource); // https://mcp.example.com/mcp
 * ```
 */
export function resourceProvider(target: ResourceTarget): Provider {
  const { server, client } = target;
  const resource = target.resourceParam;
  const key = target.resource;
  const shown = terminalSafe(key, { max: 120 });
  const sessionExpired = (options?: { cause?: unknown }) =>
    new LoopauthError(
      "session_expired",
      `Session for ${shown} expired: log in again`,
      options,
    );
  return {
    key,
    origins: [new URL(server.authorizationEndpoint).origin],
    settingsUrl: server.issuer,
    authorize(_client, scopes) {
      return Promise.resolve({
        endpoint: server.authorizationEndpoint,
        scopes,
        params: resource === undefined ? {} : { resource } as Record<string, string>,
        ...(server.issParameterSupported ? { expectedIss: server.issuer } : {}),
        async redeem(response, options = {}) {
          const token = await requestToken(server.tokenEndpoint, {
            grant_type: "authorization_code",
            code: response.code,
            redirect_uri: response.redirectUri,
            code_verifier: response.codeVerifier,
          }, { client, resource, signal: options.signal });
          // A server that names no scopes granted the ones asked for (RFC 6749 §5.1).
          if (!token.scopes.length) token.scopes = [...scopes];
          return { token, name: RESOURCE_LOGIN_NAME };
        },
      });
    },
    device: () => Promise.resolve(undefined),
    name: () => Promise.resolve(RESOURCE_LOGIN_NAME),
    async refresh(refreshToken, asked): Promise<TokenSet> {
      try {
        return await requestToken(server.tokenEndpoint, {
          grant_type: "refresh_token",
          refresh_token: refreshToken,
        }, { client, resource, signal: asked.signal });
      } catch (error) {
        // A spent refresh token, or a client the server no longer takes (a registration whose
        // secret changed or expired): a new login, which registers again where needed.
        if (
          error instanceof LoopauthError &&
          (error.oauthError === "invalid_grant" || error.oauthError === "invalid_client")
        ) {
          throw sessionExpired({ cause: error });
        }
        throw error;
      }
    },
    async revoke(token, asked) {
      if (!server.revocationEndpoint) return;
      // RFC 7009: the refresh token first (revoking it ends the grant at most servers).
      for (const value of [token.refreshToken, token.accessToken]) {
        if (value === undefined) continue;
        const body = new URLSearchParams({ token: value, client_id: client.clientId });
        const response = await fetchResource(new URL(server.revocationEndpoint), {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body,
        }, { what: `the revocation endpoint of ${shown}`, signal: asked.signal });
        await response.body?.cancel();
        if (!response.ok) {
          throw new LoopauthError(
            "revoke_failed",
            `${terminalSafe(server.issuer)} did not revoke the token (HTTP ${response.status})`,
            { status: response.status },
          );
        }
      }
    },
    check: () =>
      Promise.resolve({ state: "unchecked", detail: "a resource has no check endpoint" }),
    request() {
      throw new LoopauthError("usage", `loopauth api does not call ${shown}: use mcp-proxy`);
    },
  };
}
