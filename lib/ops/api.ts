/**
 * `apiRequest`: one call to a host's REST API with the stored token.
 * @module
 */
import { appEnv, type AppOption, inApp, resolveApp } from "../core/app.ts";
import { loginCommand, LoopauthError } from "../core/errors.ts";
import { withoutToken } from "../core/token_syntax.ts";
import { providerFor } from "../providers/registry.ts";
import { envToken, getToken, resolveHost } from "./token.ts";
import type { HostRef } from "../providers/registry.ts";

/** Options of {@linkcode apiRequest}. */
export interface ApiRequestOptions extends AppOption {
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
  /** The environment variable `user` came from, for the message when it names no account (see `getToken`). */
  userVariable?: string;
  /** Let a token from the environment win (see `getToken`; default false). */
  fromEnv?: boolean;
  /** Where accounts are stored (default: the user's config directory). */
  configDir?: string;
  /** Aborting cancels the request. */
  signal?: AbortSignal;
}

/**
 * Calls `PATH` on the host's API (GitHub's through Octokit, an issuer's as
 * a plain bearer request) and returns the parsed answer (`undefined` for an
 * empty one). A malformed method, path or base is a `usage` error before any
 * token is read; an error never quotes the token, even when the server did.
 *
 * @throws {LoopauthError} `usage` (a path off the API host), `api` (an HTTP error answer),
 * `network`, and what `getToken` throws
 *
 * @example
 * ```ts ignore
 * import { apiRequest } from "./api.ts";
 * const user = await apiRequest("/user", { hostname: "github.com" });
 * ```
 */
export async function apiRequest(path: string, options: ApiRequestOptions = {}): Promise<unknown> {
  const app = resolveApp(options.app);
  return await inApp(app, () => apiRequestAs(path, { ...options, app }));
}

/** {@linkcode apiRequest} for an app resolved once. */
async function apiRequestAs(path: string, options: ApiRequestOptions): Promise<unknown> {
  const method = (options.method ?? "GET").toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new LoopauthError("usage", `Invalid HTTP method "${method}"`);
  const host = await resolveHost(options);
  const provider = await providerFor(host, { signal: options.signal });
  let sent: string | undefined;
  try {
    return await provider.request(path, {
      method,
      fields: options.fields ?? {},
      base: options.base,
      signal: options.signal,
      token: async () => (sent = await getToken(options)),
    });
  } catch (error) {
    if (!(error instanceof LoopauthError)) throw error;
    // The server's message may quote the token it got; so may every cause (left out).
    let message = sent && error.message.includes(sent)
      ? withoutToken(error.message, sent)
      : error.message;
    // A refused token: say what to do next (a message of the provider's own may say it already).
    if (error.status === 401 && !/: run loopauth /.test(message)) {
      message += `: ${refusedTokenHint(host, options)}`;
    }
    if (message === error.message) throw error;
    throw new LoopauthError(error.code, message, {
      ...(error.status === undefined ? {} : { status: error.status }),
    });
  }
}

/** What to do when the server refused the token: change the variable it came from, or log in again. */
function refusedTokenHint(host: HostRef, options: ApiRequestOptions): string {
  const found = options.fromEnv ? envToken(host, appEnv(resolveApp(options.app))) : undefined;
  if (found) {
    return `the token in ${found.variable} was refused: set it to a valid token, or unset it to use the stored login`;
  }
  return `run ${loginCommand(host.key, { issuer: "issuer" in host })}`;
}
