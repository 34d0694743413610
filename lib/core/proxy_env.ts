/**
 * Which proxy variable Deno's `fetch` reads for a URL, so that `doctor` and
 * error messages can name it: `ALL_PROXY` first, then `HTTPS_PROXY` or
 * `HTTP_PROXY` by the URL's scheme (each upper case first, then lower case).
 * Only what the hints need: whether `NO_PROXY` exempts the host is left to
 * Deno (its ext/fetch/proxy.rs matches names, parent domains and IP ranges),
 * as copying those rules here could drift from what Deno does; a hint says
 * `NO_PROXY` is set instead. An `http://` loopback address is loopauth's own
 * exception: reached directly whatever is set (see loopback.ts).
 * @module
 */
import { readEnv } from "./env_vars.ts";
import { isLoopbackHost } from "./loopback.ts";
import { hideUserinfo } from "./text.ts";

/** The proxy that applies to a URL. */
export interface ProxyInEffect {
  /** The variable it comes from, as set (e.g. `HTTPS_PROXY` or `https_proxy`). */
  variable: string;
  /** Its value, with any user name and password hidden. */
  url: string;
}

/** What {@linkcode proxyFor} found for a URL. */
export interface ProxyDecision {
  /** The proxy, when one is set for the URL's scheme. */
  proxy?: ProxyInEffect;
  /** The `NO_PROXY` variable, when one is set beside the proxy: it may exempt the host. */
  noProxy?: string;
  /** True when a proxy is set but skipped for an `http://` loopback address (reached directly). */
  loopback?: true;
}

type Env = (name: string) => string | undefined;

/** A variable Deno may read, without a permission prompt for the others (they count as unset). */
const quietEnv: Env = (name) => readEnv([name])[name];

/** The first of `NAME`, `name` that is set (not empty). */
function pair(name: string, env: Env): { variable: string; value: string } | undefined {
  for (const variable of [name, name.toLowerCase()]) {
    const value = env(variable)?.trim();
    if (value) return { variable, value };
  }
  return undefined;
}

/**
 * The proxy loopauth's requests to `url` go through unless `NO_PROXY`
 * exempts the host, and the variables that say so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { proxyFor } from "./proxy_env.ts";
 * const env = { HTTPS_PROXY: "http://me:secret@proxy:3128", NO_PROXY: "ghe.example.com" };
 * const decision = proxyFor("https://github.com/login", (name) => env[name as keyof typeof env]);
 * assert.deepEqual(decision, {
 *   proxy: { variable: "HTTPS_PROXY", url: "http://…@proxy:3128" },
 *   noProxy: "NO_PROXY",
 * });
 * ```
 */
export function proxyFor(url: string, env: Env = quietEnv): ProxyDecision {
  const target = new URL(url);
  const set = pair("ALL_PROXY", env) ??
    pair(target.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY", env);
  if (!set) return {};
  if (target.protocol === "http:" && isLoopbackHost(target.hostname)) return { loopback: true };
  const proxy = { variable: set.variable, url: hideUserinfo(set.value) };
  const no = pair("NO_PROXY", env);
  return no ? { proxy, noProxy: no.variable } : { proxy };
}

/**
 * The variable of the proxy Deno uses for https requests (`ALL_PROXY`,
 * else `HTTPS_PROXY`, as set), whatever `NO_PROXY` says; `undefined` when
 * none is set.
 *
 * @example
 * ```ts
 * import { httpsProxyVariable } from "./proxy_env.ts";
 * httpsProxyVariable((name) => name === "https_proxy" ? "http://proxy:3128" : undefined); // "https_proxy"
 * ```
 */
export function httpsProxyVariable(env: Env = quietEnv): string | undefined {
  return (pair("ALL_PROXY", env) ?? pair("HTTPS_PROXY", env))?.variable;
}

/**
 * The proxy variables that are set at all (upper and lower case), for
 * messages and `doctor`.
 *
 * @example
 * ```ts
 * import { proxyVariables } from "./proxy_env.ts";
 * for (const { variable, url } of proxyVariables()) console.error(`${variable}=${url}`);
 * ```
 */
export function proxyVariables(env: Env = quietEnv): ProxyInEffect[] {
  const found: ProxyInEffect[] = [];
  for (const name of ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"]) {
    for (const variable of [name, name.toLowerCase()]) {
      const value = env(variable)?.trim();
      if (value) {
        found.push({ variable, url: name === "NO_PROXY" ? value : hideUserinfo(value) });
      }
    }
  }
  return found;
}
