/**
 * RFC 9728 protected resource metadata, found as the MCP authorization spec
 * (2025-11-25) says: the `resource_metadata` URL of the `WWW-Authenticate`
 * challenge, else the path-based well-known URL, else the root one. Its
 * `resource` must cover the resource asked for, its authorization servers
 * must be https (http only on this machine).
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { terminalSafe } from "../core/text.ts";
import type { BearerChallenge } from "./www_authenticate.ts";
import { canonicalResource, fetchDiscovery, reachableUrl, resourceCovers } from "./resource_url.ts";

/** A resource's metadata, checked. */
export interface ResourceMetadata {
  /** The `resource` the metadata names (canonical): the RFC 8707 `resource` parameter. */
  resource: string;
  /** Its authorization servers (issuer URLs), at least one. */
  authorizationServers: string[];
  /** The scopes it lists, when it does. */
  scopesSupported?: string[];
  /** Where the metadata was found. */
  url: string;
}

/** Options of {@linkcode discoverResource}. */
export interface DiscoverResourceOptions {
  /** The challenge of the resource's `401`, when there was one. */
  challenge?: BearerChallenge;
  /** Aborting cancels discovery. */
  signal?: AbortSignal;
}

/**
 * The places to look for a resource's metadata, in the spec's order: the
 * challenge's URL, `/.well-known/oauth-protected-resource/<path>` (when the
 * resource has a path), `/.well-known/oauth-protected-resource`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resourceMetadataUrls } from "./resource_metadata.ts";
 * assert.deepEqual(resourceMetadataUrls("https://a.example/mcp").map(String), [
 *   "https://a.example/.well-known/oauth-protected-resource/mcp",
 *   "https://a.example/.well-known/oauth-protected-resource",
 * ]);
 * ```
 */
export function resourceMetadataUrls(canonical: string, challenge?: BearerChallenge): URL[] {
  const url = new URL(canonical);
  const urls: URL[] = [];
  if (challenge?.resourceMetadata !== undefined) {
    const named = reachableUrl(challenge.resourceMetadata, undefined, { from: canonical });
    if (!named) {
      throw new LoopauthError(
        "oauth",
        `${url.origin} named resource metadata that is not https:// (${
          terminalSafe(challenge.resourceMetadata, { max: 80 })
        })`,
      );
    }
    urls.push(named);
  }
  const path = url.pathname === "/" ? "" : url.pathname;
  if (path) urls.push(new URL(`/.well-known/oauth-protected-resource${path}`, url.origin));
  urls.push(new URL("/.well-known/oauth-protected-resource", url.origin));
  return urls;
}

/**
 * Finds and checks a resource's metadata; `undefined` when no place has any
 * (a server of the 2025-03-26 spec: see `legacyAuthorizationServer`).
 * Metadata whose `resource` is another resource is an `oauth` error, never
 * used: its authorization server would get a token meant for this one.
 *
 * @example
 * ```ts ignore
 * import { discoverResource } from "./resource_metadata.ts";
 * const metadata = await discoverResource("https://mcp.example.com/mcp");
 * console.log(metadata?.authorizationServers[0]);
 * ```
 */
export async function discoverResource(
  resource: string,
  options: DiscoverResourceOptions = {},
): Promise<ResourceMetadata | undefined> {
  const canonical = canonicalResource(resource);
  const shown = terminalSafe(canonical, { max: 120 });
  for (const url of resourceMetadataUrls(canonical, options.challenge)) {
    const document = await fetchDiscovery(url, {
      what: `the resource metadata of ${shown}`,
      signal: options.signal,
    });
    if (!document) continue;
    return checkResourceMetadata(document, { canonical, url: url.href });
  }
  return undefined;
}

/**
 * Checks a metadata document against the resource it was fetched for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkResourceMetadata } from "./resource_metadata.ts";
 * const metadata = checkResourceMetadata(
 *   { resource: "https://a.example/mcp", authorization_servers: ["https://as.example"] },
 *   { canonical: "https://a.example/mcp", url: "https://a.example/.well-known/oauth-protected-resource/mcp" },
 * );
 * assert.deepEqual(metadata.authorizationServers, ["https://as.example"]);
 * assert.throws(() => checkResourceMetadata(
 *   { resource: "https://evil.example/mcp", authorization_servers: ["https://as.example"] },
 *   { canonical: "https://a.example/mcp", url: "https://a.example/.well-known/oauth-protected-resource/mcp" },
 * ));
 * ```
 */
export function checkResourceMetadata(
  document: Record<string, unknown>,
  { canonical, url }: { canonical: string; url: string },
): ResourceMetadata {
  const shown = terminalSafe(canonical, { max: 120 });
  const named = document.resource;
  if (typeof named !== "string" || !resourceCovers(named, canonical)) {
    throw new LoopauthError(
      "oauth",
      `The metadata of ${shown} names another resource (${
        terminalSafe(String(named), { max: 80 })
      }): refusing to send it a token`,
    );
  }
  const servers = document.authorization_servers;
  if (!Array.isArray(servers) || servers.length === 0) {
    throw new LoopauthError("oauth", `The metadata of ${shown} names no authorization server`);
  }
  const authorizationServers = servers.map((server) => {
    const parsed = reachableUrl(server, undefined, { from: canonical });
    if (!parsed || parsed.hash) {
      throw new LoopauthError(
        "oauth",
        `The metadata of ${shown} names an authorization server that is not https:// (${
          terminalSafe(String(server), { max: 80 })
        })`,
      );
    }
    return parsed.href.replace(/\/$/, "");
  });
  const scopes = document.scopes_supported;
  const scopesSupported = Array.isArray(scopes) && scopes.every(isScopeToken)
    ? scopes as string[]
    : undefined;
  return {
    resource: canonicalResource(named),
    authorizationServers,
    ...(scopesSupported ? { scopesSupported } : {}),
    url,
  };
}

/**
 * Whether a value is one scope token (RFC 6749 §3.3: printable ASCII but
 * space, `"` and `\`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isScopeToken } from "./resource_metadata.ts";
 * assert.equal(isScopeToken("files:read"), true);
 * assert.equal(isScopeToken("a b"), false);
 * ```
 */
export function isScopeToken(value: unknown): value is string {
  return typeof value === "string" && /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/.test(value);
}
