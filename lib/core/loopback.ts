/**
 * Loopback hosts: which host names are loopback address literals, and
 * requests to an `http://` one that go straight to it, never through a
 * proxy. Deno's `fetch` sends every `http://` request through `HTTP_PROXY`
 * or `ALL_PROXY` unless `NO_PROXY` lists the host: tokens, codes, PKCE
 * verifiers and client secrets would cross the proxy in clear text, to a
 * proxy `--allow-net` never named.
 * @module
 */

/**
 * Whether a host name is a loopback address literal (127.0.0.0/8 or ::1),
 * the only hosts `http://` is accepted for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopbackHost } from "./loopback.ts";
 * assert.equal(isLoopbackHost("127.0.0.1"), true);
 * assert.equal(isLoopbackHost("[::1]"), true);
 * assert.equal(isLoopbackHost("localhost"), false);
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  return /^127(\.\d{1,3}){3}$/.test(hostname) || hostname === "[::1]";
}

/** Whether `url` is an `http://` URL of a loopback address literal. */
function isPlainLoopback(url: URL): boolean {
  return url.protocol === "http:" && isLoopbackHost(url.hostname);
}

/** Redirects `fetch` follows. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** As many redirects as `fetch` follows. */
const MAX_REDIRECTS = 20;

/**
 * `fetch`, except that a request to an `http://` loopback address goes
 * straight to that address, whatever `HTTP_PROXY`, `ALL_PROXY` or
 * `NO_PROXY` say; any other request is `fetch`'s own (proxies included).
 * Octokit takes it as its `request.fetch`.
 *
 * @example
 * ```ts ignore
 * import { fetchLoopbackDirect } from "./loopback.ts";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("ok"));
 * const response = await fetchLoopbackDirect(`http://127.0.0.1:${server.addr.port}/`);
 * console.log(await response.text()); // "ok", even with HTTP_PROXY set
 * await server.shutdown();
 * ```
 */
export function fetchLoopbackDirect(
  input: string | URL | Request,
  init: RequestInit & { client?: Deno.HttpClient } = {},
): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : input);
  if (!isPlainLoopback(url) || init.client !== undefined) return fetch(input, init);
  if (input instanceof Request) {
    const { method, headers, body, signal, redirect } = input;
    return direct(url, { method, headers, body, signal, redirect, ...init }, 0);
  }
  return direct(url, init, 0);
}

/** One request to a loopback address through a client of its own that connects to it. */
async function direct(url: URL, init: RequestInit, hops: number): Promise<Response> {
  // Deno offers no client without the environment's proxies; a client whose transport is a
  // TCP connection to the address itself is one.
  const client = Deno.createHttpClient({
    proxy: {
      transport: "tcp",
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 80),
    },
  });
  const follow = (init.redirect ?? "follow") === "follow";
  let response: Response;
  try {
    response = await fetch(url, { ...init, client, redirect: follow ? "manual" : init.redirect });
  } finally {
    // The response's body still reads to its end: the connection lives until then.
    client.close();
  }
  const location = response.headers.get("location");
  if (!follow || !REDIRECT_STATUSES.has(response.status) || location === null) return response;
  // Followed here, not by fetch: this client would send every next request to this address.
  if (hops >= MAX_REDIRECTS) throw new TypeError(`Too many redirects from ${url.origin}`);
  await response.body?.cancel();
  const next = new URL(location, url);
  const headers = new Headers(init.headers);
  if (next.origin !== url.origin) headers.delete("authorization"); // as fetch does
  const method = (init.method ?? "GET").toUpperCase();
  const asGet = (response.status === 303 && method !== "HEAD") ||
    ((response.status === 301 || response.status === 302) && method === "POST");
  if (asGet) {
    for (const name of ["content-type", "content-length", "content-encoding"]) headers.delete(name);
  }
  const again: RequestInit = {
    ...init,
    headers,
    ...(asGet ? { method: "GET", body: undefined } : {}),
  };
  return isPlainLoopback(next) ? await direct(next, again, hops + 1) : await fetch(next, again);
}
