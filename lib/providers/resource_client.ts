/**
 * Who loopauth is to a resource's authorization server, in the MCP
 * authorization spec's order: a client id given (pre-registered), a client
 * ID metadata document's URL (when the server says
 * `client_id_metadata_document_supported`), else RFC 7591 dynamic
 * registration as a native app with a loopback redirect URI.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { DEVICE_GRANT_TYPE } from "../core/types.ts";
import { terminalSafe } from "../core/text.ts";
import type { AuthorizationServer } from "./authorization_server.ts";
import { boundedText, fetchResource, reachableUrl } from "./resource_url.ts";

/** How the client authenticates at the token endpoint. */
export type ClientAuthMethod = "none" | "client_secret_basic" | "client_secret_post";

/** The client a resource login runs as. */
export interface ResourceClient {
  /** The client id (a URL for a client ID metadata document). */
  clientId: string;
  /** The client secret of a confidential client. */
  clientSecret?: string;
  /** The token endpoint's client authentication. */
  authMethod: ClientAuthMethod;
  /** How the id was obtained. */
  source: "given" | "metadata_document" | "registered";
  /** ISO time a registered client's secret expires (RFC 7591 `client_secret_expires_at`). */
  secretExpiresAt?: string;
  /** The grants a client loopauth registered asked for (RFC 7591 `grant_types`). */
  grantTypes?: string[];
}

/** Options of {@linkcode chooseClient}. */
export interface ChooseClientOptions {
  /** A pre-registered client id. */
  clientId?: string;
  /** Its secret, for a confidential client. */
  clientSecret?: string;
  /** An https URL of the app's client ID metadata document. */
  metadataDocumentUrl?: string;
  /** The redirect URI to register (a loopback one). */
  redirectUri: string;
  /** The name the authorization server shows the user (default `loopauth`). */
  clientName?: string;
  /** Aborting cancels registration. */
  signal?: AbortSignal;
}

/**
 * The client authentication a client with or without a secret uses: `none`
 * without one; with one, `client_secret_basic` when listed (or nothing is
 * listed, RFC 8414's default), else `client_secret_post`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { authMethodFor } from "./resource_client.ts";
 * assert.equal(authMethodFor(undefined, ["client_secret_basic"]), "none");
 * assert.equal(authMethodFor("s", ["client_secret_post"]), "client_secret_post");
 * assert.equal(authMethodFor("s", undefined), "client_secret_basic");
 * ```
 */
export function authMethodFor(
  secret: string | undefined,
  supported: readonly string[] | undefined,
): ClientAuthMethod {
  if (!secret) return "none";
  if (!supported || supported.includes("client_secret_basic")) return "client_secret_basic";
  if (supported.includes("client_secret_post")) return "client_secret_post";
  throw new LoopauthError(
    "oauth",
    "The authorization server supports neither client_secret_basic nor client_secret_post: use a public client without a secret",
  );
}

/**
 * The client to log in as (see the module's order). A server that offers
 * none of them is a `usage` error naming `--client-id`.
 *
 * @example
 * ```ts ignore
 * import { discoverAuthorizationServer } from "./authorization_server.ts";
 * import { chooseClient } from "./resource_client.ts";
 * const server = await discoverAuthorizationServer("https://auth.example.com");
 * const client = await chooseClient(server, { redirectUri: "http://127.0.0.1:8123/callback" });
 * console.log(client.source);
 * ```
 */
export async function chooseClient(
  server: AuthorizationServer,
  options: ChooseClientOptions,
): Promise<ResourceClient> {
  if (options.clientId) {
    return {
      clientId: options.clientId,
      ...(options.clientSecret ? { clientSecret: options.clientSecret } : {}),
      authMethod: authMethodFor(options.clientSecret, server.tokenEndpointAuthMethods),
      source: "given",
    };
  }
  if (options.metadataDocumentUrl && server.clientIdMetadataDocumentSupported) {
    const url = reachableUrl(options.metadataDocumentUrl);
    if (!url || url.protocol !== "https:" || url.pathname === "/") {
      throw new LoopauthError(
        "usage",
        "A client metadata document URL must be https:// with a path (draft-ietf-oauth-client-id-metadata-document)",
      );
    }
    return { clientId: url.href, authMethod: "none", source: "metadata_document" };
  }
  if (server.registrationEndpoint) return await registerClient(server, options);
  throw new LoopauthError(
    "usage",
    `${
      terminalSafe(server.issuer, { max: 120 })
    } offers no dynamic registration: give the client id registered there with --client-id`,
  );
}

/** The most a registration answer may be (bytes). */
const MAX_ANSWER = 64 * 1024;

/**
 * RFC 7591 registration as a native app (RFC 8252 §8.4): public (`none`)
 * when the server allows it, else the secret method it lists.
 */
async function registerClient(
  server: AuthorizationServer,
  options: ChooseClientOptions,
): Promise<ResourceClient> {
  const supported = server.tokenEndpointAuthMethods;
  const asked: ClientAuthMethod = !supported || supported.includes("none")
    ? "none"
    : supported.includes("client_secret_basic")
    ? "client_secret_basic"
    : "client_secret_post";
  const shown = terminalSafe(server.issuer, { max: 120 });
  // The device grant only where the server offers it (a server may refuse a grant it lacks).
  const grants = [
    "authorization_code",
    "refresh_token",
    ...(server.deviceAuthorizationEndpoint ? [DEVICE_GRANT_TYPE] : []),
  ];
  const response = await fetchResource(new URL(server.registrationEndpoint!), {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      client_name: options.clientName ?? "loopauth",
      redirect_uris: [options.redirectUri],
      grant_types: grants,
      response_types: ["code"],
      token_endpoint_auth_method: asked,
      application_type: "native",
    }),
  }, { what: `the registration endpoint of ${shown}`, signal: options.signal });
  const text = await boundedText(response, MAX_ANSWER);
  let answer: Record<string, unknown> = {};
  try {
    if (text !== undefined) answer = JSON.parse(text);
  } catch { /* checked below */ }
  if (response.status !== 201 && response.status !== 200) {
    const code = typeof answer.error === "string" ? ` (${terminalSafe(answer.error)})` : "";
    throw new LoopauthError(
      "oauth",
      `${shown} refused to register loopauth${code}: give a registered client id with --client-id`,
      { status: response.status },
    );
  }
  const clientId = answer.client_id;
  const secret = answer.client_secret;
  if (
    typeof clientId !== "string" || !/^[\x21-\x7e]{1,500}$/.test(clientId) ||
    (secret !== undefined && typeof secret !== "string")
  ) {
    throw new LoopauthError(
      "oauth",
      `${shown} answered the registration without a valid client_id`,
    );
  }
  const method = answer.token_endpoint_auth_method;
  const authMethod: ClientAuthMethod =
    method === "none" || method === "client_secret_basic" || method === "client_secret_post"
      ? method
      : secret
      ? asked // the method asked for; a secret given to a client that asked for none goes unused
      : "none";
  // RFC 7591 §3.2.1: seconds since the epoch when the secret expires, 0 for never.
  const expires = answer.client_secret_expires_at;
  const secretExpiresAt = secret && authMethod !== "none" && typeof expires === "number" &&
      Number.isSafeInteger(expires) && expires > 0
    ? new Date(Math.min(expires * 1000, 8.64e15)).toISOString()
    : undefined;
  return {
    clientId,
    ...(secret && authMethod !== "none" ? { clientSecret: secret } : {}),
    authMethod,
    source: "registered",
    ...(secretExpiresAt ? { secretExpiresAt } : {}),
    // Those asked for: a login whose stored client lacks one it needs registers anew, and a
    // server that answers fewer must not make every login register again.
    grantTypes: grants,
  };
}
