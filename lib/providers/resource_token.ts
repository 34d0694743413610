/**
 * The token requests of a resource login (code exchange and refresh), each
 * with the RFC 8707 `resource` and the client authentication the server
 * takes. Written by hand, not with oauth4webapi: a 2025-03-26 server may
 * have no metadata document (oauth4webapi needs one), and a `localhost`
 * server is reached at 127.0.0.1 directly.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import type { TokenSet } from "../core/types.ts";
import { terminalSafe } from "../core/text.ts";
import { isBearerToken } from "../core/token_syntax.ts";
import type { ResourceClient } from "./resource_client.ts";
import { isScopeToken } from "./resource_metadata.ts";
import { boundedText, fetchResource } from "./resource_url.ts";

/** Options of {@linkcode requestToken}. */
export interface RequestTokenOptions {
  /** The client and its authentication. */
  client: ResourceClient;
  /** The RFC 8707 resource; omitted when `undefined`. */
  resource?: string;
  /** Aborting cancels the request. */
  signal?: AbortSignal;
}

/**
 * POSTs a form of the client to one of the authorization server's endpoints
 * (the token endpoint, the device authorization endpoint) with the client
 * authentication it uses and the RFC 8707 `resource`; the JSON answer. An
 * error answer is an `oauth` error naming `what` and the OAuth error code
 * (`oauthError`).
 *
 * @example
 * ```ts ignore
 * import { postClientForm } from "./resource_token.ts";
 * const answer = await postClientForm(new URL("https://auth.example.com/device"), { scope: "mcp" }, {
 *   client: { clientId: "c", authMethod: "none", source: "given" },
 *   what: "the device authorization endpoint of https://auth.example.com",
 * });
 * console.log(answer.user_code);
 * ```
 */
export async function postClientForm(
  url: URL,
  params: Record<string, string>,
  options: RequestTokenOptions & { what: string },
): Promise<Record<string, unknown>> {
  const { client } = options;
  const body = new URLSearchParams(params);
  const headers = new Headers({
    "content-type": "application/x-www-form-urlencoded",
    accept: "application/json",
  });
  if (client.authMethod === "client_secret_basic") {
    // RFC 6749 §2.3.1: each part form-encoded before base64.
    const part = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");
    headers.set(
      "authorization",
      `Basic ${btoa(`${part(client.clientId)}:${part(client.clientSecret ?? "")}`)}`,
    );
  } else {
    body.set("client_id", client.clientId);
    if (client.authMethod === "client_secret_post") {
      body.set("client_secret", client.clientSecret ?? "");
    }
  }
  if (options.resource !== undefined) body.set("resource", options.resource);
  const response = await fetchResource(url, { method: "POST", headers, body }, {
    what: options.what,
    signal: options.signal,
  });
  let answer: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(await boundedText(response, MAX_ANSWER) ?? "");
    if (typeof parsed === "object" && parsed !== null) answer = parsed;
  } catch { /* checked below */ }
  if (!response.ok || typeof answer.error === "string") {
    const code = typeof answer.error === "string" ? terminalSafe(answer.error, { max: 60 }) : "";
    const what = `${options.what[0].toUpperCase()}${options.what.slice(1)}`;
    const details = { status: response.status, ...(code ? { oauthError: code } : {}) };
    if (code === "invalid_client") {
      // What the user can do differs: a client given is theirs to check; one loopauth
      // registered is forgotten (resource_login.ts) and registered anew by the next run.
      throw new LoopauthError(
        "oauth",
        client.source === "given"
          ? `${what} refused client ${
            terminalSafe(client.clientId, { max: 60 })
          } or its secret (invalid_client): check --client-id and the client secret`
          : client.source === "metadata_document"
          ? `${what} refused the client ID metadata document ${
            terminalSafe(client.clientId, { max: 120 })
          } (invalid_client): check --client-metadata-url`
          : `${what} does not know loopauth's client (invalid_client): run the command again to register anew`,
        { ...details, reason: "client_unknown" },
      );
    }
    throw new LoopauthError(
      "oauth",
      `${what} refused the request${code ? ` (${code})` : ` (HTTP ${response.status})`}`,
      details,
    );
  }
  return answer;
}

/** The most an answer of the token or device endpoint may be (bytes). */
const MAX_ANSWER = 64 * 1024;

/**
 * POSTs a token request (`grant_type` and its fields in `params`) and
 * checks the answer: a bearer access token, an optional refresh token, its
 * lifetime and scopes. An OAuth error answer is an `oauth` error with its
 * code (`invalid_grant` for a refused code or refresh token).
 *
 * @example
 * ```ts ignore
 * import { requestToken } from "./resource_token.ts";
 * const token = await requestToken("https://auth.example.com/token", {
 *   grant_type: "refresh_token", refresh_token: "…",
 * }, { client: { clientId: "c", authMethod: "none", source: "given" }, resource: "https://mcp.example.com/mcp" });
 * ```
 */
export async function requestToken(
  endpoint: string,
  params: Record<string, string>,
  options: RequestTokenOptions,
): Promise<TokenSet> {
  const url = new URL(endpoint);
  const shown = terminalSafe(url.origin, { max: 120 });
  const answer = await postClientForm(url, params, {
    ...options,
    what: `the token endpoint of ${shown}`,
  });
  const { access_token, token_type, refresh_token, expires_in, scope } = answer;
  if (!isBearerToken(access_token)) {
    throw new LoopauthError("oauth", `The token endpoint of ${shown} sent no valid access token`);
  }
  if (typeof token_type === "string" && token_type.toLowerCase() !== "bearer") {
    throw new LoopauthError(
      "oauth",
      `The token endpoint of ${shown} sent a ${
        terminalSafe(token_type, { max: 20 })
      } token, not a bearer token`,
    );
  }
  const token: TokenSet = {
    accessToken: access_token,
    tokenType: "bearer",
    scopes: typeof scope === "string" ? scope.split(" ").filter(isScopeToken) : [],
  };
  if (typeof expires_in === "number" && expires_in > 0 && expires_in < 10 * 365 * 86_400) {
    token.expiresAt = new Date(Date.now() + expires_in * 1000).toISOString();
  }
  if (refresh_token !== undefined) {
    if (!isBearerToken(refresh_token)) {
      throw new LoopauthError(
        "oauth",
        `The token endpoint of ${shown} sent an invalid refresh token`,
      );
    }
    token.refreshToken = refresh_token;
  }
  return token;
}
