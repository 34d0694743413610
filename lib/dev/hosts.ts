/**
 * The names the built-in provider answers to, against DNS rebinding: a page
 * whose own name resolves to 127.0.0.1 reaches the port, but its browser
 * still sends the page's name as `Host` (HTTP/1) or `:authority` (HTTP/2).
 * The provider listens on 127.0.0.1 only, and its certificate (with `tls`)
 * names 127.0.0.1 and localhost: those two names, with the port, are all it
 * is legitimately reached by.
 * @module
 */

/** The names a provider on 127.0.0.1 is reached by: `127.0.0.1` and `localhost`. */
const NAMES = ["127.0.0.1", "localhost"];

/**
 * The `Host` values a provider at `origin` answers to: each name with the
 * port, and without it when the port is the scheme's default (curl, git and
 * gh send `Host: 127.0.0.1` for `https://127.0.0.1/`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowedHosts } from "./hosts.ts";
 * assert.deepEqual([...allowedHosts("http://127.0.0.1:8400")], ["127.0.0.1:8400", "localhost:8400"]);
 * assert.ok(allowedHosts("https://127.0.0.1").has("localhost"));
 * ```
 */
export function allowedHosts(origin: string): Set<string> {
  const url = new URL(origin);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const hosts = new Set(NAMES.map((name) => `${name}:${port}`));
  if (url.port === "") { for (const name of NAMES) hosts.add(name); }
  return hosts;
}

/**
 * Whether `request` is addressed to one of `allowed`: its `Host` header and
 * the host of its URL (where Deno puts HTTP/2's `:authority`, and an
 * absolute request target) must both be. A request with no `Host` (HTTP/1.0)
 * passes only over https, where HTTP/2 carries the name in the URL alone:
 * over plain http Deno makes up `localhost` for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowedHosts, isAllowedHost } from "./hosts.ts";
 * const allowed = allowedHosts("http://127.0.0.1:8400");
 * const request = (host: string) => new Request(`http://${host}/`, { headers: { host } });
 * assert.equal(isAllowedHost(request("localhost:8400"), allowed), true);
 * assert.equal(isAllowedHost(request("rebind.example:8400"), allowed), false);
 * ```
 */
export function isAllowedHost(request: Request, allowed: Set<string>): boolean {
  const url = new URL(request.url);
  const header = request.headers.get("host");
  if (header === null && url.protocol !== "https:") return false;
  return (header === null || allowed.has(header.toLowerCase())) && allowed.has(url.host);
}
