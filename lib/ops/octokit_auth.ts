/**
 * `createLoopauthAuth`: an Octokit authentication strategy. The first request
 * logs the user in (when no token is stored), later ones use the stored
 * token, refreshed before it expires and once more when the API answers 401.
 *
 * It follows Octokit's strategy contract (as `@octokit/auth-token` does): the
 * factory returns an `auth()` function with a `hook(request, route,
 * parameters)` that sets `authorization: token …`. It imports nothing from
 * Octokit: the types below are the few members it uses.
 * @module
 */
import { guardedHook, type OctokitRequest } from "../providers/api_origin.ts";
import { appMessage, inApp, resolveApp } from "../core/app.ts";
import { loginCommand, LoopauthError } from "../core/errors.ts";
import type { LoginOptions } from "./login.ts";
import { token as validToken } from "./ensure_token.ts";
import { resolveGitHubHost } from "../providers/github_host.ts";
import { needsRefresh } from "../core/expiry.ts";

export type { OctokitRequest } from "../providers/api_origin.ts";

/** Octokit's default `baseUrl`. */
const GITHUB_API = "https://api.github.com";

/** Options of {@linkcode createLoopauthAuth}: Octokit's `auth` option. */
export interface LoopauthAuthOptions extends Omit<LoginOptions, "store" | "clientId"> {
  /**
   * The app's client id, for a login; not needed with `loginIfNeeded:
   * false`, nor when the host's stored account has one (a login reuses it).
   */
  clientId?: string;
  /** The account's login (default: the host's active account, or whoever logs in). */
  user?: string;
  /**
   * Log in when no token is stored or the session has expired (default
   * true); `false` makes that a `not_logged_in` or `session_expired` error.
   */
  loginIfNeeded?: boolean;
}

/** What `await octokit.auth()` returns. */
export interface LoopauthAuthentication {
  /** Always `token`. */
  type: "token";
  /** Always `oauth`: a user-to-server token. */
  tokenType: "oauth";
  /** The access token. */
  token: string;
  /** The host key the account is stored under. */
  host: string;
  /** The user's login name. */
  login: string;
  /** Granted scopes. */
  scopes: string[];
  /** ISO time the access token expires, for expiring tokens. */
  expiresAt?: string;
}

/** The strategy's `auth` function, with the hook Octokit wraps its requests in. */
export interface LoopauthAuth {
  /** The current authentication (logs in or refreshes when needed). */
  (): Promise<LoopauthAuthentication>;
  /** Octokit's request hook: adds `authorization: token …`, retries once after a refresh on 401. */
  hook(request: OctokitRequest, route: unknown, parameters?: unknown): Promise<unknown>;
}

/**
 * An Octokit authentication strategy backed by loopauth's login and token
 * store. Pass it as `authStrategy` and its options as `auth`. Octokit's
 * default `baseUrl` (api.github.com) is taken as the host's API
 * (`https://HOST/api/v3` for GHES, derived from `hostname`); requests to any
 * other host get a `usage` error instead of the token. A token the API
 * refuses (401) that no refresh token can renew is a `session_expired`
 * error naming the login to run.
 *
 * @example
 * ```ts ignore
 * import { Octokit } from "npm:@octokit/rest@^22";
 * import { createLoopauthAuth } from "./octokit_auth.ts";
 * const octokit = new Octokit({
 *   authStrategy: createLoopauthAuth,
 *   auth: {
 *     clientId: "Iv1.abc",
 *     clientSecret: "…",
 *     onAuthorizationUrl: (url: string) => console.error(`Open ${url}`),
 *   },
 * });
 * const { data } = await octokit.rest.users.getAuthenticated();
 * console.log(data.login);
 * ```
 */
export function createLoopauthAuth(options: LoopauthAuthOptions): LoopauthAuth {
  const app = resolveApp(options?.app);
  const host = resolveGitHubHost(options.hostname);
  let user = options.user;
  let current: LoopauthAuthentication | undefined;
  let hasRefreshToken = false;
  let pending: Promise<LoopauthAuthentication> | undefined;

  const stored = async (forceRefresh: boolean): Promise<LoopauthAuthentication> => {
    const got = await validToken({ ...options, hostname: host.key, user, forceRefresh, app });
    hasRefreshToken = got.refreshable;
    user = got.account.login;
    return authentication(host.key, got.account.login, {
      accessToken: got.token,
      scopes: got.account.scopes,
      expiresAt: got.account.expiresAt,
    });
  };

  /** One login or refresh at a time, shared by concurrent requests. */
  const authenticate = (forceRefresh = false): Promise<LoopauthAuthentication> => {
    if (!forceRefresh && current && !needsRefresh(current.expiresAt)) {
      return Promise.resolve(current);
    }
    pending ??= stored(forceRefresh).then((value) => (current = value)).finally(() => {
      pending = undefined;
    });
    return pending;
  };

  const auth = (() => inApp(app, () => authenticate())) as LoopauthAuth;
  auth.hook = guardedHook({
    apiUrl: host.apiUrl,
    defaultBaseUrl: GITHUB_API,
    ownAuthorizationUnchecked: true,
    what: `the token for ${host.key}`,
    hint: `set Octokit's baseUrl to ${host.apiUrl}`,
    token: async () => (await inApp(app, () => authenticate())).token,
    renew: async (refused, error) => {
      if (!hasRefreshToken) {
        // Revoked, or expired without a way to renew it: a login is the only way on.
        throw new LoopauthError(
          "session_expired",
          appMessage(app, `Session for ${host.key} expired: run ${loginCommand(host.key)}`),
          { cause: error, status: 401 },
        );
      }
      // The server refused a token its expiry time calls valid (revoked early, or clock skew).
      if (current && current.token !== refused) return current.token;
      return (await inApp(app, () => authenticate(true))).token;
    },
  });
  return auth;
}

function authentication(
  host: string,
  login: string,
  token: { accessToken: string; scopes: string[]; expiresAt?: string },
): LoopauthAuthentication {
  return {
    type: "token",
    tokenType: "oauth",
    token: token.accessToken,
    host,
    login,
    scopes: token.scopes,
    ...(token.expiresAt ? { expiresAt: token.expiresAt } : {}),
  };
}
