/**
 * Calls to a GitHub API through `@octokit/rest`, loaded only when an API call
 * is made so that `token` and `--help` stay fast. The login's one identity
 * call (`GET /user` right after the code exchange) is a plain `fetch` through
 * the same origin guard and loopback rule: loading Octokit's request module
 * cost a login about 2.5 ms (docs/performance.md).
 * @module
 */
import type { Octokit } from "npm:@octokit/rest@^22";
import { checkApiOrigin, guardedHook } from "./api_origin.ts";
import { fetchLoopbackDirect } from "../core/loopback.ts";
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
    return answeredError(status, error instanceof Error ? error.message : "", what, error);
  }
  const cause = (error as { cause?: unknown })?.cause ?? error;
  return networkError(cause, what, signal);
}

/** `WHAT answered HTTP STATUS: MESSAGE`, the message cut at Octokit's ` - DOCS_URL`. */
function answeredError(status: number, text: string, what: string, cause?: unknown) {
  const message = terminalSafe(text.split(" - ")[0], { max: 160 });
  return new LoopauthError(
    "api",
    `${what} answered HTTP ${status}${message ? `: ${message}` : ""}`,
    { cause, status },
  );
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
  const host = new URL(apiUrl).host;
  const url = `${apiUrl.replace(/\/$/, "")}/user`;
  // What Octokit's guard refused (guardedHook), refused the same way.
  checkApiOrigin(url, {
    apiUrl,
    what: `a request for ${host}`,
    hint: `only ${apiUrl} gets loopauth's credentials`,
  });
  let response: Response;
  let data: unknown;
  try {
    // Not through Octokit: the request and its answer are Octokit's (headers, loopback rule,
    // error text), without its module on the login's path (docs/performance.md).
    response = await fetchLoopbackDirect(url, {
      headers: {
        accept: "application/vnd.github.v3+json",
        "user-agent": `loopauth/${VERSION}`,
        authorization: `token ${token}`,
      },
      signal: options.signal,
    });
    data = await answerData(response);
  } catch (error) {
    throw networkError(error, host, options.signal);
  }
  const status = response.status;
  if (status === 304 || status >= 400) {
    throw answeredError(status, status === 304 ? "Not modified" : errorText(data), host);
  }
  const login = typeof data === "object" && data !== null
    ? (data as { login?: unknown }).login
    : undefined;
  if (!isGitHubLogin(login)) {
    throw new LoopauthError(
      "api",
      `${host} answered GET /user with a login that is not a GitHub user name (letters, digits and single hyphens, at most 39 characters): nothing was stored`,
      { status },
    );
  }
  return login;
}

/** An answer's body as Octokit reads it: JSON by its type, else text (binary: `undefined`). */
async function answerData(response: Response): Promise<unknown> {
  const type = response.headers.get("content-type");
  const mime = type?.split(";")[0].trim().toLowerCase() ?? "";
  const json = mime === "application/json" || mime === "application/scim+json";
  const text = type === null || mime.startsWith("text/") ||
    (/;\s*charset="?utf-8"?/i.test(type) && mime !== "application/octet-stream");
  if (!json && !text) {
    await response.body?.cancel();
    return undefined;
  }
  const body = await response.text();
  if (!json) return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** The message of an error answer, as Octokit words it (`toErrorMessage`). */
function errorText(data: unknown): string {
  if (typeof data === "string") return data;
  if (typeof data !== "object" || data === null) return "Unknown error";
  if (!("message" in data)) return `Unknown error: ${JSON.stringify(data)}`;
  const { message, errors } = data as { message: unknown; errors?: unknown };
  const docs = "documentation_url" in data ? ` - ${data.documentation_url}` : "";
  return Array.isArray(errors)
    ? `${message}: ${errors.map((e) => JSON.stringify(e)).join(", ")}${docs}`
    : `${message}${docs}`;
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
