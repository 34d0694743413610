/**
 * Calls to a GitHub API through `@octokit/rest`, loaded only when an API call
 * is made so that `token` and `--help` stay fast. The login's one identity
 * call (`GET /user` right after the code exchange) goes through
 * `@octokit/request`, the core `@octokit/rest` is built on, with the same
 * origin guard: it loads in a third of the time (docs/performance.md).
 * @module
 */
import type { Octokit } from "npm:@octokit/rest@^22";
import { guardedHook } from "./api_origin.ts";
import { LoopauthError } from "../core/errors.ts";
import { networkError } from "../core/http.ts";
import { isGitHubLogin } from "./github_host.ts";
import { terminalSafe } from "../core/text.ts";
import { VERSION } from "../core/version.ts";

/** Options of {@linkcode createOctokit}. */
export interface CreateOctokitOptions {
  /** The token to send; none for requests that carry their own authorization. */
  token?: string;
  /** Aborting cancels requests (Ctrl-C). */
  signal?: AbortSignal;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let octokitModule: Promise<typeof import("npm:@octokit/rest@^22")> | undefined;

/**
 * Loads `@octokit/rest` once. A login calls it as soon as it starts waiting,
 * so the module is ready (not loaded on the critical path) when the code
 * arrives.
 *
 * @example
 * ```ts
 * import { loadOctokit } from "./github_api.ts";
 * void loadOctokit(); // warm up while the user is in the browser
 * ```
 */
export function loadOctokit(): Promise<typeof import("npm:@octokit/rest@^22")> {
  octokitModule ??= import("npm:@octokit/rest@^22");
  return octokitModule;
}

let requestModule: Promise<typeof import("npm:@octokit/request@^10")> | undefined;

/**
 * Loads `@octokit/request` once, for {@linkcode whoami}. A login calls it
 * as soon as it starts waiting, so the module is ready (not loaded after the
 * user's consent) when the code arrives.
 *
 * @example
 * ```ts
 * import { loadRequest } from "./github_api.ts";
 * void loadRequest(); // warm up while the user is in the browser
 * ```
 */
export function loadRequest(): Promise<typeof import("npm:@octokit/request@^10")> {
  requestModule ??= import("npm:@octokit/request@^10");
  return requestModule;
}

/**
 * An Octokit client for an API base URL (`https://api.github.com` or
 * `https://HOST/api/v3`). Every request it sends passes the origin guard
 * of `api_origin.ts`: one to any other origin is refused, whatever its
 * options say.
 *
 * @example
 * ```ts ignore
 * import { createOctokit } from "./github_api.ts";
 * const octokit = await createOctokit("https://api.github.com", { token: "gho_…" });
 * const { data } = await octokit.rest.users.getAuthenticated();
 * ```
 */
export async function createOctokit(
  apiUrl: string,
  options: CreateOctokitOptions = {},
): Promise<Octokit> {
  const { Octokit } = await loadOctokit();
  const hook = guardedHook({ apiUrl, token: options.token });
  return new Octokit({
    // An authentication strategy (Octokit's contract): a function with a request hook.
    authStrategy: () => Object.assign(() => Promise.resolve({ type: "token" }), { hook }),
    baseUrl: apiUrl,
    userAgent: `loopauth/${VERSION}`,
    log: quiet,
    request: { signal: options.signal },
  });
}

/**
 * Turns an Octokit failure into one clear `LoopauthError`: `api` for an HTTP
 * error answer, `network` when the server was not reached.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { apiError } from "./github_api.ts";
 * const error = apiError(new TypeError("fetch failed"), "api.github.com");
 * assert.equal(error.code, "network");
 * ```
 */
export function apiError(error: unknown, what: string, signal?: AbortSignal): LoopauthError {
  const status = (error as { status?: unknown })?.status;
  const response = (error as { response?: unknown })?.response;
  if (typeof status === "number" && response !== undefined) {
    const message = error instanceof Error
      ? terminalSafe(error.message.split(" - ")[0], { max: 160 })
      : "";
    return new LoopauthError(
      "api",
      `${what} answered HTTP ${status}${message ? `: ${message}` : ""}`,
      { cause: error, status },
    );
  }
  const cause = (error as { cause?: unknown })?.cause ?? error;
  return networkError(cause, what, signal);
}

/**
 * The login name of the token's user (`GET /user`). A login that does not
 * follow GitHub's grammar (see `isGitHubLogin`) is an `api` error: it would
 * end up in terminals, keychains and git's credential lines.
 *
 * @example
 * ```ts ignore
 * import { whoami } from "./github_api.ts";
 * const login = await whoami("https://api.github.com", "gho_…");
 * ```
 */
export async function whoami(
  apiUrl: string,
  token: string,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  const { request } = await loadRequest();
  let login: unknown;
  let status: number;
  try {
    const response = await request("GET /user", {
      baseUrl: apiUrl,
      headers: { "user-agent": `loopauth/${VERSION}` },
      // The origin guard of every Octokit client here (api_origin.ts), and no log output.
      request: { hook: guardedHook({ apiUrl, token }), signal: options.signal, log: quiet },
    });
    status = response.status;
    login = (response.data as { login?: unknown }).login;
  } catch (error) {
    throw apiError(error, new URL(apiUrl).host, options.signal);
  }
  if (!isGitHubLogin(login)) {
    throw new LoopauthError(
      "api",
      `${
        new URL(apiUrl).host
      } answered GET /user with a login that is not a GitHub user name (letters, digits and single hyphens, at most 39 characters): nothing was stored`,
      { status },
    );
  }
  return login;
}

/** Options of {@linkcode revokeToken}. */
export interface RevokeTokenOptions {
  /** The OAuth app's client id. */
  clientId: string;
  /** The OAuth app's client secret; GitHub requires it to revoke. */
  clientSecret?: string;
  /** Aborting cancels the request. */
  signal?: AbortSignal;
}

/**
 * Revokes a token on the server: `DELETE /applications/{client_id}/token`
 * with basic auth. A 404 (already gone) counts as success.
 *
 * @example
 * ```ts ignore
 * import { revokeToken } from "./github_api.ts";
 * await revokeToken("https://api.github.com", "gho_…", { clientId: "Iv1.abc", clientSecret: "…" });
 * ```
 */
export async function revokeToken(
  apiUrl: string,
  token: string,
  options: RevokeTokenOptions,
): Promise<void> {
  if (!options.clientSecret) {
    throw new LoopauthError(
      "revoke_failed",
      "no client secret is known, and GitHub needs it to revoke a token",
    );
  }
  const octokit = await createOctokit(apiUrl, { signal: options.signal });
  try {
    await octokit.request("DELETE /applications/{client_id}/token", {
      client_id: options.clientId,
      access_token: token,
      headers: { authorization: `basic ${btoa(`${options.clientId}:${options.clientSecret}`)}` },
    });
  } catch (error) {
    if ((error as { status?: unknown })?.status === 404) return;
    throw apiError(error, new URL(apiUrl).host, options.signal);
  }
}
