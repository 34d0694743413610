/**
 * `apiRequest`: one call to a host's REST API with the stored token.
 * @module
 */
import { LoopauthError } from "./errors.ts";
import { apiError, createOctokit } from "./github_api.ts";
import { resolveGitHubHost } from "./providers/github.ts";
import { getToken } from "./token.ts";

/** Options of {@linkcode apiRequest}. */
export interface ApiRequestOptions {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** HTTP method (default `GET`). */
  method?: string;
  /** Parameters: the query of a GET, the JSON body otherwise. */
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
  if (/^[a-z]+:/i.test(path) || path.startsWith("//")) {
    throw new LoopauthError("usage", "Give an API path such as /user, not a full URL");
  }
  const host = resolveGitHubHost(options.hostname);
  const token = await getToken(options);
  const octokit = await createOctokit(host.apiUrl, {
    token,
    signal: options.signal,
  });
  const route = `${method} ${path.startsWith("/") ? path : `/${path}`}`;
  try {
    const response = await octokit.request(route, { ...options.fields });
    return response.data === "" ? undefined : response.data;
  } catch (error) {
    throw apiError(error, new URL(host.apiUrl).host, options.signal);
  }
}
