/**
 * `logout`: revoke tokens on the server, then forget them locally (keyring or
 * file, and the config file); `logoutAll` without a host forgets resource
 * accounts and client registrations too.
 * @module
 */
import { type App, type AppOption, inApp, resolveApp } from "../core/app.ts";
import { asReason } from "../core/text.ts";
import { LoopauthError } from "../core/errors.ts";
import { removeAccount } from "../store/accounts.ts";
import { readConfig } from "../store/config.ts";
import { removeRegistration } from "../store/registrations.ts";
import { configDir } from "../store/paths.ts";
import { resolveHost, storedAccount, storedHost } from "./token.ts";
import { type HostRef, providerFor } from "../providers/registry.ts";
import type { ResourceAccountOptions } from "./resource_account.ts";

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

/** A resource account {@linkcode logoutAll} logged out of (`login --resource`, `mcp-proxy`). */
export interface ResourceLogoutResult {
  /** The resource's canonical URL. */
  resource: string;
  /** Whether its authorization server revoked the token (false: it offers no revocation). */
  revoked: boolean;
}

/** A client registration {@linkcode logoutAll} forgot that no resource account used. */
export interface RegistrationLogoutResult {
  /** The authorization server (issuer) the client is registered at. */
  registration: string;
  /** The registered client id. */
  clientId: string;
}

/** What {@linkcode logoutAll} removed: a host's account, a resource account or a registration. */
export type LogoutAllResult = LogoutResult | ResourceLogoutResult | RegistrationLogoutResult;

/** A revocation that failed (the local token is removed all the same). */
interface Failure {
  /** What was logged out: `LOGIN on HOST`, or a resource's URL. */
  what: string;
  /** Its host key or resource URL. */
  target: string;
  /** Why the server did not revoke it. */
  reason: string;
  /** Where to revoke it by hand. */
  where: string;
  error: unknown;
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
    const { results, failures } = await logoutEach([{ host, login: options.user }], asApp);
    throwFailures(results, failures);
    return results[0];
  });
}

/**
 * Logs out of every stored account: of `hostname`'s (or `issuer`'s) accounts
 * when it is given, else of every host's, and then of every resource account
 * (as `logout --resource` does: revoked where its authorization server offers
 * revocation, then forgotten with its client registration) and forgets every
 * other stored client registration with its secret. Failed revocations are
 * reported together after every local token is removed.
 *
 * @throws {LoopauthError} `storage`, or `revoke_failed` (every local token is removed, a server did
 * not revoke one)
 *
 * @example
 * ```ts ignore
 * import { logoutAll } from "./logout.ts";
 * for (const result of await logoutAll()) console.log(result);
 * ```
 */
export async function logoutAll(
  options: Omit<LogoutOptions, "user" | "userVariable"> = {},
): Promise<LogoutAllResult[]> {
  const app = resolveApp(options.app);
  return await inApp(app, () => logoutAllAs({ ...options, app }));
}

/** {@linkcode logoutAll} for an app resolved once. */
async function logoutAllAs(
  options: Omit<LogoutOptions, "user" | "userVariable"> & { app: App },
): Promise<LogoutAllResult[]> {
  const dir = options.configDir ?? configDir({ app: options.app });
  const config = readConfig(dir);
  const only = options.hostname === undefined && options.issuer === undefined
    ? undefined
    : await resolveHost(options);
  const targets: { host: HostRef; login: string }[] = [];
  for (const [key, entry] of Object.entries(config.hosts)) {
    if (only !== undefined && key !== only.key) continue;
    const host = storedHost(config, key);
    for (const login of Object.keys(entry.accounts)) targets.push({ host, login });
  }
  // Resources and registrations belong to no host: only a logout of everything takes them.
  const resources = only === undefined ? Object.keys(config.resources ?? {}) : [];
  const registrations = only === undefined ? Object.keys(config.registrations ?? {}) : [];
  if (targets.length === 0 && resources.length === 0 && registrations.length === 0) {
    throw new LoopauthError(
      "not_logged_in",
      `Not logged in to ${only?.key ?? "any host or resource"}: nothing to log out of`,
    );
  }
  const { results, failures } = await logoutEach(targets, { ...options, configDir: dir });
  const all: LogoutAllResult[] = [...results];
  if (resources.length) {
    // Loaded only when there is one: logout --resource's own code, revocation included.
    const { resourceLogout } = await import("./resource_account.ts");
    for (const resource of resources) {
      const where = config.resources?.[resource]?.authorizationServer ?? resource;
      try {
        const { removed, revoked, refusal } = await resourceLogout(resource, {
          configDir: dir,
          app: options.app,
          signal: options.signal,
        });
        if (refusal !== undefined) {
          all.push({ resource, revoked: false });
          failures.push(resourceFailure(resource, where, refusal));
        } else if (removed) all.push({ resource, revoked });
      } catch (error) {
        // A store that fails stops here, as it does for a host's account.
        if (error instanceof LoopauthError && ["cancelled", "storage"].includes(error.code)) {
          throw error;
        }
        all.push({ resource, revoked: false });
        failures.push(resourceFailure(resource, where, error));
      }
    }
  }
  // What is left: registrations no resource account used (a login that did not finish).
  const store = { dir, app: options.app };
  const left = only === undefined ? readConfig(dir).registrations ?? {} : {};
  for (const [key, record] of Object.entries(left)) {
    if (await removeRegistration(key, store)) {
      all.push({ registration: key.split(" ")[0], clientId: record.clientId });
    }
  }
  throwFailures(all, failures);
  return all;
}

/**
 * Logs out of one resource account (`logout --resource`): revoked where its
 * authorization server offers revocation, then forgotten with its client
 * registration; whether one was stored, and whether it was revoked.
 *
 * @throws {LoopauthError} `storage`, or `revoke_failed` (the local token is removed, the server
 * did not revoke it)
 *
 * @example
 * ```ts ignore
 * import { logoutResource } from "./logout.ts";
 * const { removed } = await logoutResource("https://mcp.example.com/mcp");
 * ```
 */
export async function logoutResource(
  resource: string,
  options: Pick<ResourceAccountOptions, "configDir" | "app" | "signal"> = {},
): Promise<{ removed: boolean; revoked: boolean }> {
  // Loaded only when used: logout --resource's own code, revocation included.
  const { resourceLogout } = await import("./resource_account.ts");
  const result = await resourceLogout(resource, options);
  if (result.refusal !== undefined) {
    throwFailures([{ resource: result.resource, revoked: false }], [
      resourceFailure(
        result.resource,
        result.authorizationServer ?? result.resource,
        result.refusal,
      ),
    ]);
  }
  return { removed: result.removed, revoked: result.revoked };
}

/** A resource's failed revocation, reported as a host's is. */
function resourceFailure(resource: string, where: string, error: unknown): Failure {
  return { what: resource, target: resource, reason: asReason(error), where, error };
}

async function logoutEach(
  targets: { host: HostRef; login?: string }[],
  options: LogoutOptions,
): Promise<{ results: LogoutResult[]; failures: Failure[] }> {
  const app = resolveApp(options.app);
  const dir = options.configDir ?? configDir({ app });
  const results: LogoutResult[] = [];
  const failures: Failure[] = [];
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
      failures.push({
        what: `${result.login} on ${result.host}`,
        target: result.host,
        reason,
        where: provider.settingsUrl,
        error,
      });
    }
    await removeAccount(host.key, account.login, { dir, app });
    results.push(result);
  }
  return { results, failures };
}

/**
 * Throws the failed revocations of a logout as one `revoke_failed` error (its
 * tokens are removed locally), naming each and where to revoke it by hand.
 */
function throwFailures(results: LogoutAllResult[], failures: Failure[]): void {
  if (failures.length === 1 && results.length === 1) {
    const [{ target, reason, where, error }] = failures;
    throw new LoopauthError(
      "revoke_failed",
      `Removed the local token for ${target}, but could not revoke it on the server (${reason}): it may still be valid, revoke it at ${where}`,
      { cause: error },
    );
  }
  if (failures.length) {
    const list = failures.map((f) => `${f.what} (${f.reason})`);
    throw new LoopauthError(
      "revoke_failed",
      `Removed the local tokens, but could not revoke ${
        list.join(", ")
      } on the server: they may still be valid, revoke them by hand at ${
        [...new Set(failures.map((f) => f.where))].join(", ")
      }`,
      {
        cause: new AggregateError(
          failures.map((f) => f.error),
          `Revoking failed for ${failures.length} of ${results.length} tokens`,
        ),
      },
    );
  }
}
