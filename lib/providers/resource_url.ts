/**
 * A protected resource's URL (RFC 8707 §2, RFC 9728): its canonical form,
 * the URL rules for what its metadata names (https, or http on this
 * machine), and the requests made while discovering it.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { fetchBounded } from "../core/http.ts";
import { fetchLoopbackDirect, isLoopbackHost } from "../core/loopback.ts";
import { terminalSafe } from "../core/text.ts";

/**
 * Whether `url` may be reached: `https:`, or `http:` on a loopback address or
 * `localhost` (RFC 8252 §8.3; local MCP servers and test suites use it).
 * Anything else (`http:` elsewhere, `file:`, `javascript:`) is refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isReachableUrl } from "./resource_url.ts";
 * assert.equal(isReachableUrl(new URL("https://mcp.example.com/mcp")), true);
 * assert.equal(isReachableUrl(new URL("http://localhost:3000/mcp")), true);
 * assert.equal(isReachableUrl(new URL("http://mcp.example.com/mcp")), false);
 * ```
 */
export function isReachableUrl(url: URL): boolean {
  if (url.username || url.password) return false;
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && (isLoopbackHost(url.hostname) || url.hostname === "localhost");
}

/**
 * The URL a server named, checked by {@linkcode isReachableUrl}; `undefined`
 * when it is not a string or not such a URL, or when it is http (on this
 * machine) and `from`, the URL of whatever named it, is https.
 */
export function reachableUrl(
  value: unknown,
  base?: string,
  options: { from?: string } = {},
): URL | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const url = new URL(value, base);
    // http on this machine only when named by something on this machine: a remote server
    // must not make loopauth send requests to local services (SSRF).
    if (url.protocol === "http:" && options.from && new URL(options.from).protocol === "https:") {
      return undefined;
    }
    return isReachableUrl(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The canonical URI of a resource (RFC 8707 §2, MCP 2025-11-25): scheme,
 * host, port and path, lower-case scheme and host, no fragment, no trailing
 * slash on a path. A URL that is not https (or http on this machine) is a
 * `usage` error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalResource } from "./resource_url.ts";
 * assert.equal(canonicalResource("HTTPS://MCP.Example.com/mcp/#x"), "https://mcp.example.com/mcp");
 * assert.equal(canonicalResource("https://mcp.example.com/"), "https://mcp.example.com");
 * ```
 */
export function canonicalResource(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new LoopauthError(
      "usage",
      `Not a URL: ${terminalSafe(input, { max: 120 })} (give the server's https:// address)`,
    );
  }
  if (!isReachableUrl(url)) {
    throw new LoopauthError(
      "usage",
      `${
        terminalSafe(url.origin, { max: 120 })
      } is not https:// (http:// only for 127.0.0.1, [::1] or localhost)`,
    );
  }
  url.hash = "";
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/**
 * Whether the `resource` of a server's metadata covers `canonical`: the same
 * origin, and a path that is the resource's or one of its prefixes (by
 * segments), as MCP clients accept a server's root metadata for its `/mcp`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resourceCovers } from "./resource_url.ts";
 * assert.equal(resourceCovers("https://a.example/", "https://a.example/mcp"), true);
 * assert.equal(resourceCovers("https://a.example/mc", "https://a.example/mcp"), false);
 * assert.equal(resourceCovers("https://b.example/mcp", "https://a.example/mcp"), false);
 * ```
 */
export function resourceCovers(resource: string, canonical: string): boolean {
  let named: string;
  try {
    named = canonicalResource(resource);
  } catch {
    return false;
  }
  if (named === canonical) return true;
  const a = new URL(named);
  const b = new URL(canonical);
  if (a.origin !== b.origin || a.search) return false;
  const prefix = a.pathname === "/" ? "/" : `${a.pathname}/`;
  return b.pathname.startsWith(prefix);
}

/** Options of {@linkcode fetchDiscovery}. */
export interface FetchDiscoveryOptions {
  /** What is being reached, for messages. */
  what: string;
  /** Aborting cancels the request. */
  signal?: AbortSignal;
}

/** The largest metadata document read (bytes): a server cannot fill memory. */
const MAX_DOCUMENT = 256 * 1024;

/**
 * GETs a JSON document of discovery: `undefined` on a 4xx (the next place is
 * tried), the parsed object on a 200, a `network` error for anything else.
 * No redirect is followed (a server could send the request elsewhere), and
 * `http://localhost` is reached at 127.0.0.1 directly, never through a proxy.
 *
 * @example
 * ```ts ignore
 * import { fetchDiscovery } from "./resource_url.ts";
 * const document = await fetchDiscovery(
 *   new URL("https://mcp.example.com/.well-known/oauth-protected-resource"),
 *   { what: "the metadata of https://mcp.example.com" },
 * );
 * ```
 */
export async function fetchDiscovery(
  url: URL,
  options: FetchDiscoveryOptions,
): Promise<Record<string, unknown> | undefined> {
  const response = await fetchResource(url, {
    headers: { accept: "application/json", "mcp-protocol-version": "2025-11-25" },
  }, options);
  if (response.status >= 400 && response.status < 500) {
    await response.body?.cancel();
    return undefined;
  }
  const shown = terminalSafe(url.href, { max: 120 });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new LoopauthError("network", `${shown} answered HTTP ${response.status}`, {
      status: response.status,
    });
  }
  const text = await boundedText(response, MAX_DOCUMENT);
  let parsed: unknown;
  try {
    parsed = text === undefined ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new LoopauthError("oauth", `${shown} is not a JSON metadata document`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * One request to a resource or its servers: {@linkcode fetchBounded}, with
 * `http://localhost:PORT` sent to 127.0.0.1:PORT directly (its `Host` stays
 * `localhost:PORT`), never to a proxy or whatever the resolver says.
 */
export async function fetchResource(
  url: URL,
  init: RequestInit,
  options: FetchDiscoveryOptions,
): Promise<Response> {
  if (url.protocol !== "http:" || url.hostname !== "localhost") {
    return await fetchBounded(url.href, init, options);
  }
  // Deno offers no client without the environment's proxies; a client whose transport is a
  // TCP connection to 127.0.0.1 is one (as core/loopback.ts does for address literals).
  const client = Deno.createHttpClient({
    proxy: { transport: "tcp", hostname: "127.0.0.1", port: Number(url.port || 80) },
  });
  try {
    return await fetchBounded(url.href, { ...init, client } as RequestInit, options);
  } finally {
    client.close();
  }
}

/**
 * A request of a session with the resource (no time bound: a stream of
 * server events may last as long as the session), `http://localhost`
 * reached at 127.0.0.1 directly and every loopback address without a proxy.
 *
 * @example
 * ```ts ignore
 * import { fetchStream } from "./resource_url.ts";
 * const response = await fetchStream(new Request("https://mcp.example.com/mcp", { method: "GET" }));
 * ```
 */
export async function fetchStream(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.protocol !== "http:" || url.hostname !== "localhost") {
    return await fetchLoopbackDirect(request);
  }
  const client = Deno.createHttpClient({
    proxy: { transport: "tcp", hostname: "127.0.0.1", port: Number(url.port || 80) },
  });
  try {
    return await fetch(request, { client });
  } finally {
    client.close(); // the body still reads to its end: the connection lives until then
  }
}

/**
 * A response's text, or `undefined` when it is longer than `max` bytes
 * (read no further: a hostile server's endless body never fills memory).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundedText } from "./resource_url.ts";
 * assert.equal(await boundedText(new Response("x".repeat(10)), 4), undefined);
 * assert.equal(await boundedText(new Response("{}"), 4), "{}");
 * ```
 */
export async function boundedText(response: Response, max: number): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(all);
}
