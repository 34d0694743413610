/**
 * `apiRequest`: one call to a host's REST API with the stored token.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { apiError, createOctokit } from "../providers/github_api.ts";
import { isLoopbackHost, resolveGitHubHost } from "../providers/github.ts";
import { parseIssuerUrl } from "../providers/issuer_url.ts";
import { getToken } from "./token.ts";
import { fetchBounded } from "../core/http.ts";
import { terminalSafe } from "../core/text.ts";

/** Options of {@linkcode apiRequest}. */
export interface ApiRequestOptions {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** An OAuth 2.0 / OpenID Connect issuer's account instead (a plain bearer request). */
  issuer?: string;
  /** With `issuer`: the API's base URL (default: the issuer's origin); the URL must lie under it. */
  base?: string;
  /** HTTP method (default `GET`). */
  method?: string;
  /** Parameters: the query of a GET or HEAD, the JSON body otherwise (data only, never request options). */
  fields?: Record<string, string>;
  /** The account's login (default: the host's active account). */
  user?: string;
  /** Let a token from the environment win (see `getToken`; default false). */
  fromEnv?: boolean;
  /** Where accounts are stored (default: the user's config directory). */
  configDir?: string;
  /** Aborting cancels the request. */
  signal?: AbortSignal;
}

/**
 * Calls `PATH` on the host's API through Octokit and returns the parsed
 * answer (`undefined` for an empty one).
 *
 * @example
 * ```ts
 * import { apiRequest } from "./api.ts";
 * const user = await apiRequest("/user", { hostname: "github.com" });
 * ```
 */
export async function apiRequest(path: string, options: ApiRequestOptions = {}): Promise<unknown> {
  const method = (options.method ?? "GET").toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new LoopauthError("usage", `Invalid HTTP method "${method}"`);
  if (options.issuer !== undefined) {
    return await issuerApiRequest(path, method, { ...options, issuer: options.issuer });
  }
  if (/^[a-z]+:/i.test(path) || path.startsWith("//")) {
    throw new LoopauthError("usage", "Give an API path such as /user, not a full URL");
  }
  const host = resolveGitHubHost(options.hostname);
  const token = await getToken(options);
  const octokit = await createOctokit(host.apiUrl, {
    token,
    signal: options.signal,
  });
  // The fields are data only, never Octokit's request options (baseUrl, url, headers, …).
  const fields = options.fields ?? {};
  const hasBody = method !== "GET" && method !== "HEAD" && Object.keys(fields).length > 0;
  let url = path.startsWith("/") ? path : `/${path}`;
  if (!hasBody && Object.keys(fields).length > 0) {
    url += `${url.includes("?") ? "&" : "?"}${new URLSearchParams(fields)}`;
  }
  try {
    const response = await octokit.request({ method, url, ...(hasBody ? { data: fields } : {}) });
    return response.data === "" ? undefined : response.data;
  } catch (error) {
    throw apiError(error, new URL(host.apiUrl).host, options.signal);
  }
}

/**
 * Resolves `PATH` (or a full URL) against the API base of an issuer's
 * account: the base is `base`, else the issuer's origin, and the URL must
 * lie under it, so the token goes to no other server.
 *
 * @example
 * ```ts
 * import { issuerApiUrl } from "./api.ts";
 * issuerApiUrl("/v1/me", { issuer: "https://id.example.com/realms/x" }).href; // "https://id.example.com/v1/me"
 * ```
 */
export function issuerApiUrl(path: string, options: { issuer: string; base?: string }): URL {
  const base = parseUrl(options.base ?? parseIssuerUrl(options.issuer).origin, "--base");
  if (base.protocol !== "https:" && !(base.protocol === "http:" && isLoopbackHost(base.hostname))) {
    throw new LoopauthError(
      "usage",
      "The API base must be an https:// URL (http:// only for loopback)",
    );
  }
  if (base.username || base.password || base.search || base.hash) {
    throw new LoopauthError(
      "usage",
      "Give the API base without credentials, query or fragment",
    );
  }
  const prefix = base.href.endsWith("/") ? base.href : `${base.href}/`;
  const url = /^[a-z]+:/i.test(path)
    ? parseUrl(path, "PATH")
    : parseUrl(path.replace(/^\/+/, ""), "PATH", prefix);
  if (url.origin !== base.origin || !`${url.origin}${url.pathname}/`.startsWith(prefix)) {
    throw new LoopauthError(
      "usage",
      `${terminalSafe(path, { max: 100 })} is not under the API base ${base.href}: pass --base`,
    );
  }
  return url;
}

/** A URL from the command line; a malformed one is a `usage` error naming `what`. */
function parseUrl(text: string, what: string, base?: string): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new LoopauthError(
      "usage",
      `Invalid ${what} "${terminalSafe(text, { max: 100 })}": it is not a valid URL`,
    );
  }
}

/** One bearer request to an issuer's API; the parsed JSON (or text) answer. */
async function issuerApiRequest(
  path: string,
  method: string,
  options: ApiRequestOptions & { issuer: string },
): Promise<unknown> {
  // The URL first: a malformed --issuer, --base or PATH is a usage error before any token is read.
  const url = issuerApiUrl(path, options);
  const token = await getToken(options);
  const fields = options.fields ?? {};
  const hasBody = method !== "GET" && method !== "HEAD" && Object.keys(fields).length > 0;
  if (!hasBody) { for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v); }
  const response = await fetchBounded(url.href, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/json",
      ...(hasBody ? { "Content-Type": "application/json" } : {}),
    },
    body: hasBody ? JSON.stringify(fields) : undefined,
  }, { signal: options.signal, what: url.host });
  const text = await response.text();
  if (!response.ok) {
    throw new LoopauthError(
      "api",
      `${url.host} answered HTTP ${response.status} for ${method} ${
        terminalSafe(url.pathname, { max: 100 })
      }${response.status === 401 ? ": run loopauth login --issuer " + options.issuer : ""}`,
    );
  }
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
