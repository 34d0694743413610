/**
 * Which proxy Deno's `fetch` uses for a URL, read from the same variables
 * by the same rules (Deno's ext/fetch/proxy.rs, from reqwest), so that
 * `doctor` and error messages can name the variable that is in effect:
 * `ALL_PROXY` first, then `HTTPS_PROXY` or `HTTP_PROXY` by the URL's scheme
 * (each upper case first, then lower case), and `NO_PROXY` (IP addresses
 * and IPv4 CIDR ranges for an IP host; for a name the name, a parent domain
 * or `*`). Written by hand: Deno exposes no API for it. An `http://`
 * loopback address is the exception: loopauth reaches it directly whatever
 * is set (see loopback.ts).
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
  /** The proxy, when one applies. */
  proxy?: ProxyInEffect;
  /** The `NO_PROXY` variable that exempts the URL, when a proxy is set but skipped. */
  bypassedBy?: string;
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
 * The proxy loopauth's requests to `url` go through, and the variable that
 * says so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { proxyFor } from "./proxy_env.ts";
 * const env = { HTTPS_PROXY: "http://me:secret@proxy:3128", NO_PROXY: "ghe.example.com" };
 * const decision = proxyFor("https://github.com/login", (name) => env[name as keyof typeof env]);
 * assert.deepEqual(decision.proxy, { variable: "HTTPS_PROXY", url: "http://…@proxy:3128" });
 * ```
 */
export function proxyFor(url: string, env: Env = quietEnv): ProxyDecision {
  const target = new URL(url);
  const set = pair("ALL_PROXY", env) ??
    pair(target.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY", env);
  if (!set) return {};
  if (target.protocol === "http:" && isLoopbackHost(target.hostname)) return { loopback: true };
  const no = pair("NO_PROXY", env);
  if (no && exempt(target.hostname, no.value)) return { bypassedBy: no.variable };
  return { proxy: { variable: set.variable, url: hideUserinfo(set.value) } };
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

/** Whether NO_PROXY's list exempts `hostname` (as Deno's NoProxy matches it). */
function exempt(hostname: string, list: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const entries = list.split(",").map((e) => e.trim().toLowerCase()).filter(Boolean);
  const ip = ipv4(host);
  if (ip !== undefined || host.includes(":")) {
    // An IP host is matched against the IP entries only.
    return entries.some((entry) => {
      const [address, bits] = entry.split("/");
      if (host.includes(":")) return bits === undefined && address.replace(/^\[|\]$/g, "") === host;
      const base = ipv4(address);
      if (base === undefined || ip === undefined) return false;
      const prefix = bits === undefined ? 32 : Number(bits);
      if (!(prefix >= 0 && prefix <= 32)) return false;
      const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
      return ((base & mask) >>> 0) === ((ip & mask) >>> 0);
    });
  }
  return entries.some((entry) =>
    entry === "*" || entry === host || entry.replace(/^\./, "") === host ||
    (host.endsWith(entry) && (entry.startsWith(".") || host.at(-entry.length - 1) === "."))
  );
}

function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    return undefined;
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}
