/**
 * `logout`: revoke tokens on the server, then forget them locally (keyring or
 * file, and the config file).
 * @module
 */
import { type App, type AppOption, inApp, resolveApp } from "../core/app.ts";
import { asReason } from "../core/text.ts";
import { LoopauthError } from "../core/errors.ts";
import { removeAccount } from "../store/accounts.ts";
import { readConfig } from "../store/config.ts";
import { configDir } from "../store/paths.ts";
import { resolveHost, storedAccount, storedHost } from "./token.ts";
import { type HostRef, providerFor } from "../providers/registry.ts";

/** Options of {@linkcode logout} and {@linkcode logoutAll}. */
export interface LogoutOptions extends AppOption {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** An OAuth 2.0 / OpenID Connect issuer URL instead (RFC 7009 revocation). */
  issuer?: string;
  /** The account's login (default: the host's active account). */
  user?: string;
  /** The environment variable `user` came from, for the message when it names no account (see `getToken`). */
  userVariable?: string;
  /** Where accounts are stored (default: the user's config directory). */
  configDir?: string;
  /** Client secret to revoke with, when the login stored none. */
  clientSecret?: string;
  /** Aborting cancels the revocation request; the local token is still removed. */
  signal?: AbortSignal;
}

/** The result of a logout. */
export interface LogoutResult {
  /** The host key. */
  host: string;
  /** The login name that was logged out. */
  login: string;
  /**
   * Whether the token was revoked on the server: `false` for a token
   * loopauth did not create (`login --with-token`), which it cannot revoke.
   */
  revoked: boolean;
}

/**
 * Revokes the stored token of a host's account (`user`, else the active one)
 * on the server and removes it locally. If revocation fails the local token
 * is still removed and a `revoke_failed` error says where to revoke it by
 * hand.
 *
 * @throws {LoopauthError} `not_logged_in`, `storage`, or `revoke_failed` (the local token is
 * removed, the server did not revoke it)
 *
 * @example
 * ```ts ignore
 * import { logout } from "./logout.ts";
 * const { host, login } = await logout({ hostname: "github.com" });
 * ```
 */
export async function logout(options: LogoutOptions = {}): Promise<LogoutResult> {
  const app = resolveApp(options.app);
  return await inApp(app, async () => {
    const asApp = { ...options, app };
    const host = await resolveHost(asApp);
    return (await logoutEach([{ host, login: options.user }], asApp))[0];
  });
}

/**
 * Logs out of every stored account: of `hostname`'s accounts when it is
 * given, else of every host's. Failed revocations are reported together
 * after every local token is removed.
 *
 * @throws {LoopauthError} `storage`, or `revoke_failed` (every local token is removed, a server did
 * not revoke one)
 *
 * @example
 * ```ts ignore
 * import { logoutAll } from "./logout.ts";
 * for (const { host, login } of await logoutAll()) console.log(host, login);
 * ```
 */
export async function logoutAll(
  options: Omit<LogoutOptions, "user" | "userVariable"> = {},
): Promise<LogoutResult[]> {
  const app = resolveApp(options.app);
  return await inApp(app, () => logoutAllAs({ ...options, app }));
}

/** {@linkcode logoutAll} for an app resolved once. */
async function logoutAllAs(
  options: Omit<LogoutOptions, "user" | "userVariable"> & { app: App },
): Promise<LogoutResult[]> {
  const config = readConfig(options.configDir ?? configDir({ app: options.app }));
  const only = options.hostname === undefined && options.issuer === undefined
    ? undefined
    : await resolveHost(options);
  const targets: { host: HostRef; login: string }[] = [];
  for (const [key, entry] of Object.entries(config.hosts)) {
    if (only !== undefined && key !== only.key) continue;
    const host = storedHost(config, key);
    for (const login of Object.keys(entry.accounts)) targets.push({ host, login });
  }
  if (targets.length === 0) {
    throw new LoopauthError(
      "not_logged_in",
      `Not logged in to ${only?.key ?? "any host"}: nothing to log out of`,
    );
  }
  return await logoutEach(targets, options);
}

async function logoutEach(
  targets: { host: HostRef; login?: string }[],
  options: LogoutOptions,
): Promise<LogoutResult[]> {
  const app = resolveApp(options.app);
  const dir = options.configDir ?? configDir({ app });
  const results: LogoutResult[] = [];
  const failures: {
    result: LogoutResult;
    reason: string;
    settingsUrl: string;
    error: unknown;
  }[] = [];
  for (const { host, ...target } of targets) {
    const account = await storedAccount(host, {
      user: target.login,
      userVariable: options.userVariable,
      configDir: dir,
      app,
      hostname: options.hostname,
      issuer: options.issuer,
    });
    const result: LogoutResult = { host: host.key, login: account.login, revoked: false };
    const client = {
      clientId: account.clientId,
      clientSecret: options.clientSecret ?? account.clientSecret,
      signal: options.signal,
    };
    const provider = await providerFor(host, { signal: options.signal, allowNoPkceMetadata: true });
    try {
      // No client id: the token came from login --with-token, made elsewhere (a PAT).
      if (account.clientId) {
        await provider.revoke(account.token, client);
        result.revoked = true;
      }
    } catch (error) {
      const reason = asReason(error);
      failures.push({ result, reason, settingsUrl: provider.settingsUrl, error });
    }
    await removeAccount(host.key, account.login, { dir, app });
    results.push(result);
  }
  if (failures.length === 1 && results.length === 1) {
    const [{ result, reason, settingsUrl, error }] = failures;
    throw new LoopauthError(
      "revoke_failed",
      `Removed the local token for ${result.host}, but could not revoke it on the server (${reason}): it may still be valid, revoke it at ${settingsUrl}`,
      { cause: error },
    );
  }
  if (failures.length) {
    const list = failures.map((f) => `${f.result.login} on ${f.result.host} (${f.reason})`);
    throw new LoopauthError(
      "revoke_failed",
      `Removed the local tokens, but could not revoke ${
        list.join(", ")
      } on the server: they may still be valid, revoke them in each host's settings (${
        [...new Set(failures.map((f) => f.settingsUrl))].join(", ")
      })`,
      {
        cause: new AggregateError(
          failures.map((f) => f.error),
          `Revoking failed for ${failures.length} of ${results.length} tokens`,
        ),
      },
    );
  }
  return results;
}
