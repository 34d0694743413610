/**
 * An authorization server's metadata for a resource login: RFC 8414 and
 * OpenID Connect discovery in the order of the MCP authorization spec
 * (2025-11-25), path insertion included, and the 2025-03-26 fallbacks for
 * servers without resource metadata (metadata at the MCP server's origin,
 * else its default endpoints). Every endpoint must be https (http only on
 * this machine), the `issuer` must be the one asked for, and PKCE S256 must
 * be listed.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { DEVICE_GRANT_TYPE } from "../core/types.ts";
import { terminalSafe } from "../core/text.ts";
import { isScopeToken } from "./resource_metadata.ts";
import { fetchDiscovery, reachableUrl } from "./resource_url.ts";

/** What a resource login uses of an authorization server, checked. */
export interface AuthorizationServer {
  /** The issuer identifier. */
  issuer: string;
  /** Where the browser is sent. */
  authorizationEndpoint: string;
  /** Where codes and refresh tokens are redeemed. */
  tokenEndpoint: string;
  /** RFC 7591 dynamic client registration, when offered. */
  registrationEndpoint?: string;
  /** RFC 7009 revocation, when offered. */
  revocationEndpoint?: string;
  /**
   * RFC 8628 device authorization, when offered (and `grant_types_supported`,
   * where listed, has the device grant).
   */
  deviceAuthorizationEndpoint?: string;
  /** The client authentication methods of the token endpoint, when listed. */
  tokenEndpointAuthMethods?: string[];
  /** Whether a client id may be a client ID metadata document's URL. */
  clientIdMetadataDocumentSupported: boolean;
  /** The scopes it lists, when it does. */
  scopesSupported?: string[];
  /** RFC 9207: the callback carries `iss`. */
  issParameterSupported: boolean;
  /** Where the metadata came from; `undefined` for the 2025-03-26 default endpoints. */
  metadataUrl?: string;
}

/** Options of the discovery functions. */
export interface DiscoverServerOptions {
  /** Aborting cancels discovery. */
  signal?: AbortSignal;
}

/**
 * The metadata URLs of an issuer, in the spec's order: for one with a path,
 * RFC 8414 with path insertion, OpenID Connect with path insertion, OpenID
 * Connect with the path appended; for one without, RFC 8414 then OpenID
 * Connect at the root.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metadataUrls } from "./authorization_server.ts";
 * assert.deepEqual(metadataUrls("https://as.example/tenant1").map(String), [
 *   "https://as.example/.well-known/oauth-authorization-server/tenant1",
 *   "https://as.example/.well-known/openid-configuration/tenant1",
 *   "https://as.example/tenant1/.well-known/openid-configuration",
 * ]);
 * ```
 */
export function metadataUrls(issuer: string): URL[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, "");
  if (!path) {
    return [
      new URL("/.well-known/oauth-authorization-server", url.origin),
      new URL("/.well-known/openid-configuration", url.origin),
    ];
  }
  return [
    new URL(`/.well-known/oauth-authorization-server${path}`, url.origin),
    new URL(`/.well-known/openid-configuration${path}`, url.origin),
    new URL(`${path}/.well-known/openid-configuration`, url.origin),
  ];
}

/**
 * Discovers and checks the metadata of the authorization server a resource
 * named. No metadata at any place is an `oauth` error.
 *
 * @example
 * ```ts ignore
 * import { discoverAuthorizationServer } from "./authorization_server.ts";
 * const server = await discoverAuthorizationServer("https://auth.example.com");
 * console.log(server.tokenEndpoint);
 * ```
 */
export async function discoverAuthorizationServer(
  issuer: string,
  options: DiscoverServerOptions = {},
): Promise<AuthorizationServer> {
  const shown = terminalSafe(issuer, { max: 120 });
  for (const url of metadataUrls(issuer)) {
    const document = await fetchDiscovery(url, {
      what: `the metadata of ${shown}`,
      signal: options.signal,
    });
    if (!document) continue;
    // RFC 8414 §3.3: a document for another issuer is refused (mix-up attacks).
    if (sameIssuer(document.issuer, issuer) === false) {
      throw otherIssuer(shown, document.issuer);
    }
    return checkServerMetadata(document, { shown, url: url.href });
  }
  throw new LoopauthError("oauth", `No authorization server metadata at ${shown}`);
}

/**
 * The authorization server a stored resource token was issued by,
 * discovered again from its stored `issuer` (a document for another issuer
 * is refused); for a 2025-03-26 server without metadata, the default
 * endpoints at the resource's origin when their issuer is that same one.
 *
 * @example
 * ```ts ignore
 * import { rediscoverAuthorizationServer } from "./authorization_server.ts";
 * const server = await rediscoverAuthorizationServer(
 *   "https://auth.example.com",
 *   "https://mcp.example.com/mcp",
 * );
 * console.log(server.tokenEndpoint);
 * ```
 */
export async function rediscoverAuthorizationServer(
  issuer: string,
  resource: string,
  options: DiscoverServerOptions = {},
): Promise<AuthorizationServer> {
  try {
    return await discoverAuthorizationServer(issuer, options);
  } catch (error) {
    const legacy = await legacyAuthorizationServer(resource, options).catch(() => undefined);
    if (!legacy || legacy.issuer !== issuer) throw error;
    return legacy;
  }
}

/**
 * The authorization server of a resource without resource metadata (MCP
 * 2025-03-26): the RFC 8414 document at the resource's origin, whose issuer
 * must be on that origin, else the default endpoints `/authorize`, `/token`
 * and `/register` there.
 *
 * @example
 * ```ts ignore
 * import { legacyAuthorizationServer } from "./authorization_server.ts";
 * const server = await legacyAuthorizationServer("https://mcp.example.com/mcp");
 * console.log(server.authorizationEndpoint); // https://mcp.example.com/authorize without metadata
 * ```
 */
export async function legacyAuthorizationServer(
  resource: string,
  options: DiscoverServerOptions = {},
): Promise<AuthorizationServer> {
  const origin = new URL(resource).origin;
  const shown = terminalSafe(origin, { max: 120 });
  const url = new URL("/.well-known/oauth-authorization-server", origin);
  const document = await fetchDiscovery(url, {
    what: `the metadata of ${shown}`,
    signal: options.signal,
  });
  if (document) {
    const issuer = reachableUrl(document.issuer);
    if (!issuer || issuer.origin !== origin) {
      throw otherIssuer(shown, document.issuer);
    }
    return checkServerMetadata(document, { shown, url: url.href });
  }
  return {
    issuer: origin,
    authorizationEndpoint: `${origin}/authorize`,
    tokenEndpoint: `${origin}/token`,
    registrationEndpoint: `${origin}/register`,
    clientIdMetadataDocumentSupported: false,
    issParameterSupported: false,
  };
}

/** A metadata document names another issuer than the one it was fetched for. */
function otherIssuer(shown: string, named: unknown): LoopauthError {
  return new LoopauthError(
    "oauth",
    `The metadata of ${shown} is for another issuer (${terminalSafe(String(named), { max: 80 })})`,
  );
}

/** `true` when `named` is `issuer` (a trailing slash aside), `false` when not. */
function sameIssuer(named: unknown, issuer: string): boolean {
  return typeof named === "string" && named.replace(/\/$/, "") === issuer.replace(/\/$/, "");
}

/** The endpoints and lists of a metadata document, checked. */
function checkServerMetadata(
  document: Record<string, unknown>,
  { shown, url }: { shown: string; url: string },
): AuthorizationServer {
  const endpoint = (field: string, required: boolean): string | undefined => {
    const value = document[field];
    if (value === undefined && !required) return undefined;
    const parsed = reachableUrl(value, undefined, { from: url });
    if (!parsed) {
      throw new LoopauthError(
        "oauth",
        `The metadata of ${shown} has ${
          value === undefined ? "no" : "an invalid"
        } ${field} (https:// needed)`,
      );
    }
    return parsed.href;
  };
  const methods = document.code_challenge_methods_supported;
  if (!Array.isArray(methods) || !methods.includes("S256")) {
    throw new LoopauthError(
      "oauth",
      `${shown} does not list PKCE S256 (code_challenge_methods_supported): refusing to log in without it`,
    );
  }
  const list = (field: string) => {
    const value = document[field];
    return Array.isArray(value) && value.every(isScopeToken) ? value as string[] : undefined;
  };
  const registration = endpoint("registration_endpoint", false);
  const revocation = endpoint("revocation_endpoint", false);
  // The device route only where the grant is not left out of a list the server gives.
  const grants = document.grant_types_supported;
  const device = Array.isArray(grants) && !grants.includes(DEVICE_GRANT_TYPE)
    ? undefined
    : endpoint("device_authorization_endpoint", false);
  const authMethods = list("token_endpoint_auth_methods_supported");
  const scopes = list("scopes_supported");
  return {
    issuer: String(document.issuer),
    authorizationEndpoint: endpoint("authorization_endpoint", true)!,
    tokenEndpoint: endpoint("token_endpoint", true)!,
    ...(registration ? { registrationEndpoint: registration } : {}),
    ...(revocation ? { revocationEndpoint: revocation } : {}),
    ...(device ? { deviceAuthorizationEndpoint: device } : {}),
    ...(authMethods ? { tokenEndpointAuthMethods: authMethods } : {}),
    clientIdMetadataDocumentSupported: document.client_id_metadata_document_supported === true,
    ...(scopes ? { scopesSupported: scopes } : {}),
    issParameterSupported: document.authorization_response_iss_parameter_supported === true,
    metadataUrl: url,
  };
}
