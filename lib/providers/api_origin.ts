/**
 * The origin guard of every Octokit request loopauth makes: a request whose
 * final URL lies outside the API's origin is refused before a byte is sent,
 * so no option, parameter or path can send a token to another server.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { terminalSafe } from "../core/text.ts";
import { fetchLoopbackDirect } from "../core/loopback.ts";

/** The few members of Octokit's `request` that an authentication hook uses. */
export interface OctokitRequest {
  /** Sends a request. */
  (options: Record<string, unknown>): Promise<unknown>;
  /** Octokit's endpoint helpers. */
  endpoint: {
    /** Merges a route and parameters into request options. */
    merge(route: unknown, parameters?: unknown): {
      headers: Record<string, string | number | undefined>;
      [key: string]: unknown;
    };
    /** The final method, URL, headers and body of request options. */
    parse(options: unknown): { url: string };
  };
}

/**
 * The origins a request for an API base URL may go to: the API's own, and
 * for github.com also the origin it serves release asset uploads from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { apiOrigins } from "./api_origin.ts";
 * assert.deepEqual(apiOrigins("https://ghe.example.com/api/v3"), ["https://ghe.example.com"]);
 * ```
 */
export function apiOrigins(apiUrl: string): string[] {
  const { origin } = new URL(apiUrl);
  return origin === "https://api.github.com" ? [origin, "https://uploads.github.com"] : [origin];
}

/** Options of {@linkcode checkApiOrigin}. */
export interface ApiOriginOptions {
  /** The API base URL the request is for. */
  apiUrl: string;
  /** What would be sent, for the message: `the token for github.com`. */
  what: string;
  /** How to fix it, for the message. */
  hint: string;
}

/**
 * Throws a `usage` error unless `url` lies in one of the API's origins
 * (see {@linkcode apiOrigins}).
 *
 * @example
 * ```ts
 * import { checkApiOrigin } from "./api_origin.ts";
 * checkApiOrigin("https://api.github.com/user", {
 *   apiUrl: "https://api.github.com",
 *   what: "the token for github.com",
 *   hint: "give an API path such as /user",
 * });
 * ```
 */
export function checkApiOrigin(url: string, options: ApiOriginOptions): void {
  let origin: string | undefined;
  try {
    origin = new URL(url).origin;
  } catch { /* refused below */ }
  if (origin !== undefined && apiOrigins(options.apiUrl).includes(origin)) return;
  throw new LoopauthError(
    "usage",
    `Refusing to send ${options.what} to ${
      terminalSafe(origin ?? url, { max: 100 })
    }: ${options.hint}`,
  );
}

/**
 * Octokit request options whose `fetch` reaches an `http://` loopback API
 * directly, never through a proxy (`fetchLoopbackDirect`); a `fetch` the
 * caller gave Octokit is kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fetchLoopbackDirect } from "../core/loopback.ts";
 * import { directOnLoopback } from "./api_origin.ts";
 * const options = directOnLoopback({ url: "http://127.0.0.1:8080/api/v3/user", headers: {} });
 * assert.equal(options.request.fetch, fetchLoopbackDirect);
 * ```
 */
export function directOnLoopback<T extends Record<string, unknown>>(
  options: T,
): T & { request: { fetch: unknown } } {
  const request = (options.request ?? {}) as { fetch?: unknown };
  return { ...options, request: { ...request, fetch: request.fetch ?? fetchLoopbackDirect } };
}

/** Options of {@linkcode guardedHook}. */
export interface GuardedHookOptions {
  /** The API base URL: requests elsewhere are refused. */
  apiUrl: string;
  /** The token to send: a string, or a function that gets the current one. */
  token?: string | (() => Promise<string>);
  /**
   * Called once when the API answers 401 to `refused` (the answer is
   * `error`): another token to try once more, or `undefined` to let the 401
   * stand; it may throw an error of its own instead.
   */
  renew?: (refused: string, error: unknown) => Promise<string | undefined>;
  /** What a refused request would have carried, for the message (default: `a request for HOST`). */
  what?: string;
  /** How to fix a refused request, for the message. */
  hint?: string;
  /**
   * A base URL that stands for `apiUrl`: a request for it goes to `apiUrl`
   * (the Octokit strategy: Octokit's default `https://api.github.com` is the
   * host's API).
   */
  defaultBaseUrl?: string;
  /**
   * Send a request that brings its own authorization as it is, before the
   * origin check (the Octokit strategy: the caller's credentials, not
   * loopauth's). Default `false`: every request is checked.
   */
  ownAuthorizationUnchecked?: boolean;
}

/**
 * Octokit's request hook for every Octokit loopauth drives (its own clients
 * and the `createLoopauthAuth` strategy):
 * every request passes {@linkcode checkApiOrigin}, then gets
 * `authorization: token …` unless it brings its own authorization, and goes
 * through {@linkcode directOnLoopback}; a 401 is retried once with the token
 * `renew` gives.
 *
 * @example
 * ```ts
 * import { guardedHook } from "./api_origin.ts";
 * const hook = guardedHook({ apiUrl: "https://api.github.com", token: "gho_…" });
 * ```
 */
export function guardedHook(
  options: GuardedHookOptions,
): (request: OctokitRequest, route: unknown, parameters?: unknown) => Promise<unknown> {
  const host = new URL(options.apiUrl).host;
  return async (request, route, parameters) => {
    const merged = request.endpoint.merge(route, parameters);
    if (options.defaultBaseUrl !== undefined && merged.baseUrl === options.defaultBaseUrl) {
      merged.baseUrl = options.apiUrl;
    }
    const endpoint = directOnLoopback(merged);
    const own = endpoint.headers.authorization !== undefined;
    if (own && options.ownAuthorizationUnchecked) return await request(endpoint);
    checkApiOrigin(request.endpoint.parse(endpoint).url, {
      apiUrl: options.apiUrl,
      what: options.what ?? `a request for ${host}`,
      hint: options.hint ?? `only ${options.apiUrl} gets loopauth's credentials`,
    });
    const given = options.token;
    if (given === undefined || own) return await request(endpoint);
    const send = async (token: string) =>
      await request({
        ...endpoint,
        headers: { ...endpoint.headers, authorization: `token ${token}` },
      });
    const token = typeof given === "string" ? given : await given();
    try {
      return await send(token);
    } catch (error) {
      if ((error as { status?: unknown })?.status !== 401 || !options.renew) throw error;
      const renewed = await options.renew(token, error);
      if (renewed === undefined) throw error;
      return await send(renewed);
    }
  };
}
