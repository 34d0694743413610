/**
 * `token`: a valid token in one call, for a CLI built on the library: the
 * stored one, refreshed under the lock when it is about to expire, and a
 * login only where one is allowed.
 * @module
 */
import { type AppOption, inApp, resolveApp } from "../core/app.ts";
import { LoopauthError } from "../core/errors.ts";
import type { StoredAccount } from "../store/accounts.ts";
import { login, type LoginOptions } from "./login.ts";
import { getAccount } from "./token.ts";

/** Options of {@linkcode token}: `getToken`'s, and `login()`'s for when a login is needed. */
export interface TokenOptions extends AppOption, Omit<LoginOptions, "clientId" | "store"> {
  /** The app's client id, for a login (default: the host's stored account's). */
  clientId?: string;
  /** The account's login (default: the host's active account, or whoever logs in). */
  user?: string;
  /**
   * Log in when no token is stored or the session has expired (default
   * true); `false` makes that a `not_logged_in` or `session_expired` error.
   */
  loginIfNeeded?: boolean;
  /** Refresh now whatever the expiry time says (e.g. after the API answered 401). */
  forceRefresh?: boolean;
}

/** What {@linkcode token} returns. */
export interface TokenResult {
  /** The access token. */
  token: string;
  /** The account it belongs to (host, login, scopes, expiry, storage). */
  account: Pick<StoredAccount, "host" | "login" | "storage"> & {
    scopes: string[];
    expiresAt?: string;
  };
  /** Whether this call logged the user in. */
  loggedIn: boolean;
  /** Whether a refresh token can renew it (else a refused token needs a login). */
  refreshable: boolean;
}

/**
 * A valid access token and its account: the stored one (refreshed under the
 * lock when it expires within a minute), else, where `loginIfNeeded` allows
 * it, a login with `login()`'s options.
 *
 * @example
 * ```ts ignore
 * import { token } from "./ensure_token.ts";
 * const { token: value, account } = await token({
 *   app: "ghstars",
 *   clientId: "Iv1.abc",
 *   onAuthorizationUrl: (url) => console.error(`Open ${url}`),
 * });
 * console.error(`Using ${account.login}'s token on ${account.host}`);
 * ```
 */
export async function token(options: TokenOptions = {}): Promise<TokenResult> {
  const app = resolveApp(options.app);
  return await inApp(app, async () => {
    const { loginIfNeeded, user, clientId, forceRefresh, ...loginOptions } = options;
    try {
      const account = await getAccount({
        hostname: options.hostname,
        issuer: options.issuer,
        user,
        configDir: options.configDir,
        signal: options.signal,
        forceRefresh,
        app,
      });
      return {
        token: account.token.accessToken,
        account: {
          host: account.host,
          login: account.login,
          storage: account.storage,
          scopes: account.token.scopes,
          ...(account.token.expiresAt ? { expiresAt: account.token.expiresAt } : {}),
        },
        loggedIn: false,
        refreshable: account.token.refreshToken !== undefined,
      };
    } catch (error) {
      const relogin = error instanceof LoopauthError &&
        (error.code === "not_logged_in" || error.code === "session_expired");
      if (!relogin || loginIfNeeded === false) throw error;
    }
    const result = await login({ ...loginOptions, clientId: clientId ?? "", app });
    return {
      token: result.accessToken,
      account: {
        host: result.host,
        login: result.login,
        storage: result.storage ?? "file",
        scopes: result.scopes,
        ...(result.expiresAt ? { expiresAt: result.expiresAt } : {}),
      },
      loggedIn: true,
      refreshable: result.refreshToken !== undefined,
    };
  });
}
