/**
 * A protected resource as a {@linkcode Provider} (RFC 9728 + RFC 8707): the
 * authorization server its metadata named, the client chosen for it, and
 * the `resource` parameter on the authorization request and every token
 * request. Built by `ops/resource_login.ts` once discovery is done.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import {
  DEVICE_GRANT_TYPE,
  type DeviceCode,
  type DeviceGrant,
  type TokenSet,
} from "../core/types.ts";
import { terminalSafe } from "../core/text.ts";
import type { AuthorizationServer } from "./authorization_server.ts";
import type { ResourceClient } from "./resource_client.ts";
import { postClientForm, requestToken } from "./resource_token.ts";
import { devicePollAnswer } from "./device_answer.ts";
import type { Provider } from "./provider.ts";
import { reachableUrl } from "./resource_url.ts";

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
    device: () => Promise.resolve(resourceDeviceGrant(target)),
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
      const endpoint = new URL(server.revocationEndpoint);
      // RFC 7009: the refresh token first (revoking it ends the grant at most servers).
      for (const value of [token.refreshToken, token.accessToken]) {
        if (value === undefined) continue;
        try {
          // RFC 7009 §2.1: a confidential client authenticates as at the token endpoint
          // (its registration's method); an empty 200 answer is success.
          await postClientForm(endpoint, { token: value }, {
            client,
            signal: asked.signal,
            what: `the revocation endpoint of ${shown}`,
          });
        } catch (error) {
          const status = error instanceof LoopauthError ? error.status : undefined;
          if (status === undefined) throw error;
          const code = error instanceof LoopauthError ? error.oauthError : undefined;
          throw new LoopauthError(
            "revoke_failed",
            `${terminalSafe(server.issuer)} did not revoke the token (HTTP ${status}${
              code ? ` ${code}` : ""
            })`,
            { status, ...(code ? { oauthError: code } : {}), cause: error },
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

/**
 * The device authorization grant (RFC 8628) of a resource login, when the
 * authorization server offers it: the code asked for and polled for with
 * the client's authentication and the RFC 8707 `resource` (PKCE has no
 * place in it). The answer is checked before anything of it is shown.
 *
 * @example
 * ```ts ignore
 * import { resourceDeviceGrant } from "./resource_provider.ts";
 * const grant = resourceDeviceGrant({
 *   resource: "https://mcp.example.com/mcp",
 *   resourceParam: "https://mcp.example.com/mcp",
 *   server: {
 *     issuer: "https://auth.example.com",
 *     authorizationEndpoint: "https://auth.example.com/authorize",
 *     tokenEndpoint: "https://auth.example.com/token",
 *     deviceAuthorizationEndpoint: "https://auth.example.com/device",
 *     clientIdMetadataDocumentSupported: false,
 *     issParameterSupported: true,
 *   },
 *   client: { clientId: "c", authMethod: "none", source: "given" },
 * });
 * if (grant) console.log((await grant.request({ scopes: ["mcp:tools"] })).userCode);
 * ```
 */
export function resourceDeviceGrant(target: ResourceTarget): DeviceGrant | undefined {
  const { server, client } = target;
  const resource = target.resourceParam;
  if (!server.deviceAuthorizationEndpoint) return undefined;
  const endpoint = new URL(server.deviceAuthorizationEndpoint);
  const what = `the device authorization endpoint of ${
    terminalSafe(endpoint.origin, { max: 120 })
  }`;
  const invalid = (field: string) =>
    new LoopauthError("oauth", `${what[0].toUpperCase()}${what.slice(1)} sent no valid ${field}`);
  // A server that names no scopes granted the ones asked for (RFC 6749 §5.1).
  let asked: string[] = [];
  return {
    async request({ scopes, signal }) {
      asked = [...scopes ?? []];
      const answer = await postClientForm(
        endpoint,
        scopes?.length ? { scope: scopes.join(" ") } : {},
        { client, resource, signal, what },
      );
      const { device_code, user_code, expires_in, interval } = answer;
      if (typeof device_code !== "string" || !/^[\x21-\x7e]{1,1024}$/.test(device_code)) {
        throw invalid("device_code");
      }
      if (typeof user_code !== "string" || !/^[\x21-\x7e]{1,40}$/.test(user_code)) {
        throw invalid("user_code");
      }
      // Shown to the user and opened in the browser: https (http on this machine) only.
      const page = reachableUrl(answer.verification_uri, undefined, { from: endpoint.href });
      if (!page) throw invalid("verification_uri");
      const complete = answer.verification_uri_complete === undefined
        ? undefined
        : reachableUrl(answer.verification_uri_complete, undefined, { from: endpoint.href });
      if (typeof expires_in !== "number" || !(expires_in > 0) || expires_in > 86_400) {
        throw invalid("expires_in");
      }
      const code: DeviceCode = {
        deviceCode: device_code,
        userCode: terminalSafe(user_code, { max: 40 }),
        verificationUri: page.href,
        expiresIn: expires_in,
        interval: typeof interval === "number" && interval > 0 && interval <= 600 ? interval : 5,
      };
      if (complete) code.verificationUriComplete = complete.href;
      return code;
    },
    async poll(deviceCode, { signal }) {
      try {
        const token = await requestToken(server.tokenEndpoint, {
          grant_type: DEVICE_GRANT_TYPE,
          device_code: deviceCode,
        }, { client, resource, signal });
        if (!token.scopes.length) token.scopes = [...asked];
        return { status: "done", tokens: token };
      } catch (error) {
        if (!(error instanceof LoopauthError)) throw error;
        return devicePollAnswer({
          oauthError: error.oauthError,
          status: error.status,
          cause: error,
        });
      }
    },
  };
}
