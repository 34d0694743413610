/**
 * `status`: every stored account (and a token from the environment) with
 * where it lives, its expiry, and whether the server still accepts it.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import type { Provider, TokenCheck } from "../providers/provider.ts";
import { type HostRef, providerFor } from "../providers/registry.ts";
import { isPast } from "../core/expiry.ts";
import { openStore } from "../store/secret_store.ts";
import type { StorageName } from "../store/secrets.ts";
import { loadAccount, type StoredAccount } from "../store/accounts.ts";
import { renewAccount } from "./refresh.ts";
import { readConfig } from "../store/config.ts";
import { configDir } from "../store/paths.ts";
import { resolveGitHubHost } from "../providers/github_host.ts";
import { type EnvToken, envToken, resolveHost, storedHost } from "./token.ts";
import { readEnvVar } from "../core/env_vars.ts";

/**
 * What is known about a token: `valid` (the server accepted it), `invalid`
 * (the server refused it), `expired` (past its expiry with nothing to renew
 * it, or the server refused its refresh token), `refreshable` (expired,
 * with a refresh token that is not expired: renewed on next use; only
 * offline, as online `status` renews it to know), `unchecked` (offline), `unreachable` (the server did not answer), `missing` (the
 * config names it but its store has none), `error` (anything
 * else; see `detail`).
 */
export type TokenState =
  | "valid"
  | "invalid"
  | "expired"
  | "refreshable"
  | "unchecked"
  | "unreachable"
  | "missing"
  | "error";

/** One account in {@linkcode StatusReport}. */
export interface AccountStatus {
  /** The login; `null` for an environment token that was not checked online. */
  login: string | null;
  /** Whether this account is the one used without `--user` (an env token always is). */
  active: boolean;
  /** Where the token comes from: a store, or `env`. */
  source: StorageName | "env";
  /** The keyring's name, the file's path, the agent's socket, or the environment variable. */
  location: string;
  /** The app's client id (`null` for an environment token). */
  clientId: string | null;
  /** Granted scopes, as stored (or as the server reported for an env token). */
  scopes: string[];
  /** ISO time the access token expires; `null` when it does not. */
  tokenExpiresAt: string | null;
  /** ISO time the refresh token expires; `null` when there is none or it does not. */
  refreshTokenExpiresAt: string | null;
  /** See {@linkcode TokenState}. */
  state: TokenState;
  /** Why, for `unreachable`, `missing` and `error`. */
  detail?: string;
}

/** The result of {@linkcode status}: hosts in config order. */
export interface StatusReport {
  /** One entry per host. */
  hosts: { host: string; issuer?: true; accounts: AccountStatus[] }[];
  /**
   * The resource accounts (`login --resource`), as stored (not checked:
   * their tokens are refreshed when used); only when no host is asked for.
   */
  resources?: ResourceStatus[];
}

/** A stored resource account, as {@linkcode status} lists it (no secret). */
export interface ResourceStatus {
  /** The resource's canonical URI. */
  resource: string;
  /** The authorization server its token is from. */
  authorizationServer: string;
  /** The client it logged in as. */
  clientId: string;
  /** The scopes granted. */
  scopes: string[];
  /** Where the token is kept. */
  source: string;
  /** When the access token expires (ISO), when it does. */
  expiresAt?: string;
}

/** Options of {@linkcode status}. */
export interface StatusOptions {
  /** Only this host. */
  hostname?: string;
  /** Only this OAuth 2.0 / OpenID Connect issuer. */
  issuer?: string;
  /** Where accounts are stored (default: the user's config directory). */
  configDir?: string;
  /**
   * Do not ask the servers whether the tokens are still accepted. Online, an
   * access token past its expiry is renewed with its refresh token (and the
   * new pair stored), the only way to know whether that still works.
   */
  offline?: boolean;
  /**
   * Include a token from the environment (`LOOPAUTH_TOKEN`, `GH_TOKEN`, …)
   * as source `env` (default false), for the one host it belongs to: see
   * {@linkcode envTokenFor}.
   */
  fromEnv?: boolean;
  /**
   * With `fromEnv` and no host given: the host the user named by default
   * (`LOOPAUTH_HOST`, `GH_HOST`), which `LOOPAUTH_TOKEN` and the enterprise
   * tokens belong to (default github.com).
   */
  defaultHost?: string;
  /** Aborting cancels the checks. */
  signal?: AbortSignal;
}

/** States that need the user to log in again. */
export const BAD_STATES: readonly TokenState[] = ["invalid", "expired", "missing"];

/**
 * The status of every stored account (of one host with `hostname`). A
 * config or tokens file that cannot be read is a `storage` error naming it.
 *
 * @example
 * ```ts ignore
 * import { status } from "./status.ts";
 * const report = await status({ offline: true });
 * for (const { host, accounts } of report.hosts) console.log(host, accounts.map((a) => a.login));
 * ```
 */
export async function status(options: StatusOptions = {}): Promise<StatusReport> {
  const dir = options.configDir ?? configDir();
  const config = readConfig(dir);
  const only = options.hostname === undefined && options.issuer === undefined
    ? undefined
    : await resolveHost({ ...options, configDir: dir });
  const keys = only ? [only.key] : Object.keys(config.hosts);
  const named = only ?? resolveGitHubHost(options.defaultHost ?? "github.com");
  const envOf = (host: HostRef) => options.fromEnv ? envTokenFor(host, { named }) : undefined;
  // A token from the environment shows even where nothing is stored (as gh's known hosts).
  for (const host of only ? [] : [resolveGitHubHost("github.com"), named]) {
    if (envOf(host) && !keys.includes(host.key)) keys.unshift(host.key);
  }
  // One provider per host (an issuer's metadata is read once, not once per account).
  const providers = new Map<string, Promise<Provider>>();
  const providerOf = (host: HostRef) => {
    if (!providers.has(host.key)) {
      const provider = providerFor(host, { signal: options.signal, allowNoPkceMetadata: true });
      provider.catch(() => {}); // observed by each check that awaits it
      providers.set(host.key, provider);
    }
    return providers.get(host.key)!;
  };
  // Every account's look-up and online check, in report order; run a few at a time below.
  const hosts: { key: string; host: HostRef; jobs: (() => Promise<AccountStatus>)[] }[] = [];
  for (const key of keys) {
    const entry = Object.hasOwn(config.hosts, key) ? config.hosts[key] : undefined;
    // The host given by flag as it was resolved: an issuer stays one when nothing is stored.
    const host = only ?? storedHost(config, key);
    const jobs: (() => Promise<AccountStatus>)[] = [];
    const env = envOf(host);
    if (env) {
      jobs.push(async () => {
        const found = await check(providerOf, host, env.token, options);
        return {
          login: found.login ?? null,
          active: true,
          source: "env",
          location: env.variable,
          clientId: null,
          scopes: found.scopes ?? [],
          tokenExpiresAt: null,
          refreshTokenExpiresAt: null,
          state: found.state,
          ...(found.detail ? { detail: found.detail } : {}),
        };
      });
    }
    for (const [login, record] of Object.entries(entry?.accounts ?? {})) {
      jobs.push(async () => {
        const item: AccountStatus = {
          login,
          active: !env && entry?.active === login,
          source: record.storage,
          location: openStore(record.storage, { dir }).location,
          clientId: record.clientId,
          scopes: record.scopes,
          tokenExpiresAt: record.expiresAt ?? null,
          refreshTokenExpiresAt: record.refreshTokenExpiresAt ?? null,
          state: "unchecked",
        };
        try {
          let account = await loadAccount(key, record, { dir });
          const dead = isPast(account.token.expiresAt) &&
            (!account.token.refreshToken || isPast(account.token.refreshTokenExpiresAt));
          if (dead) {
            item.state = "expired";
            if (account.token.refreshToken) item.detail = "its refresh token expired too";
          } else if (isPast(account.token.expiresAt) && options.offline) {
            item.state = "refreshable";
          } else {
            if (isPast(account.token.expiresAt)) {
              // Only the server knows whether the refresh token still works: spend it, as the
              // next `token` would (under the lock, the new pair stored first).
              const renewed = await renew(host, account, { dir, signal: options.signal });
              if ("state" in renewed) {
                item.state = renewed.state;
                item.detail = renewed.detail;
              } else account = renewed;
            }
            if (item.state === "unchecked") {
              const found = await check(providerOf, host, account.token.accessToken, {
                ...options,
                clientId: record.clientId,
              });
              item.state = found.state;
              if (found.detail) item.detail = found.detail;
            }
          }
          item.tokenExpiresAt = account.token.expiresAt ?? null;
          item.refreshTokenExpiresAt = account.token.refreshTokenExpiresAt ?? null;
        } catch (error) {
          // An unreadable store (a corrupt tokens.json) fails status as it fails every command.
          if (!(error instanceof LoopauthError) || error.code === "storage") throw error;
          item.state = error.code === "not_logged_in" ? "missing" : "error";
          item.detail = error.message;
        }
        return item;
      });
    }
    hosts.push({ key, host, jobs });
  }
  const results = await inParallel(hosts.flatMap((h) => h.jobs), STATUS_CONCURRENCY);
  const report: StatusReport = { hosts: [] };
  if (!only) {
    const resources = Object.entries(config.resources ?? {}).filter(([, r]) =>
      typeof r.authorizationServer === "string"
    );
    if (resources.length) {
      report.resources = resources.map(([resource, record]) => ({
        resource,
        authorizationServer: record.authorizationServer!,
        clientId: record.clientId,
        scopes: record.scopes,
        source: record.storage,
        ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
      }));
    }
  }
  let next = 0;
  for (const { key, host, jobs } of hosts) {
    const accounts = results.slice(next, next += jobs.length);
    if (accounts.length) {
      report.hosts.push({
        host: key,
        ...("issuer" in host ? { issuer: true as const } : {}),
        accounts,
      });
    }
  }
  return report;
}

/** Options of {@linkcode envTokenFor}. */
export interface EnvTokenForOptions {
  /** The host the user named: by `--hostname` or `--issuer`, else by default (`LOOPAUTH_HOST`, `GH_HOST`, github.com). */
  named: HostRef;
  /** Reads a variable (default: the process's environment). */
  env?: (name: string) => string | undefined;
}

/**
 * The environment's token that {@linkcode status} may send to `host`, by
 * gh's rules: every variable of `envTokenVariables` for the host the user
 * named; `GH_TOKEN` and `GITHUB_TOKEN` (never `LOOPAUTH_TOKEN`) for
 * github.com; nothing for any other host, whatever is stored for it. A
 * stored host is no request to send it a token from the environment: its
 * port may now be another user's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { envTokenFor } from "./status.ts";
 * import { resolveGitHubHost } from "../providers/github_host.ts";
 * const env = (name: string) => ({ LOOPAUTH_TOKEN: "a", GH_ENTERPRISE_TOKEN: "b" })[name];
 * const named = resolveGitHubHost("ghe.example.com");
 * assert.equal(envTokenFor(named, { named, env })?.variable, "LOOPAUTH_TOKEN");
 * assert.equal(envTokenFor(resolveGitHubHost("http://127.0.0.1:8080"), { named, env }), undefined);
 * assert.equal(envTokenFor(resolveGitHubHost("github.com"), { named, env }), undefined);
 * ```
 */
export function envTokenFor(host: HostRef, options: EnvTokenForOptions): EnvToken | undefined {
  const env = options.env ?? readEnvVar;
  if (host.key === options.named.key) return envToken(host, env);
  if (host.key !== "github.com") return undefined;
  // github.com not named: only its own variables (gh's), not loopauth's any-host one.
  return envToken(host, (name) => (name === "LOOPAUTH_TOKEN" ? undefined : env(name)));
}

/**
 * How many accounts {@linkcode status} looks up and checks at once: the
 * online checks of many accounts overlap, without opening a connection per
 * account to one server at the same moment.
 */
export const STATUS_CONCURRENCY = 8;

/**
 * Runs `jobs` at most `limit` at a time; their results in order. After a
 * failure no new job starts; the first failure (in job order) is thrown
 * once the running ones have settled.
 */
async function inParallel<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  const failures: { index: number; error: unknown }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && failures.length === 0) {
      const index = next++;
      try {
        results[index] = await jobs[index]();
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  if (failures.length) throw failures.reduce((a, b) => (a.index < b.index ? a : b)).error;
  return results;
}

/**
 * Spends the refresh token of an expired account: the renewed account, or
 * what went wrong (`expired`: the server refused it; `unreachable`).
 */
async function renew(
  host: HostRef,
  account: StoredAccount,
  options: { dir: string; signal?: AbortSignal },
): Promise<StoredAccount | { state: TokenState; detail: string }> {
  try {
    return await renewAccount(host, account, options);
  } catch (error) {
    if (!(error instanceof LoopauthError)) throw error;
    if (error.code === "session_expired") {
      return { state: "expired", detail: "the server refused its refresh token" };
    }
    if (error.code === "network") return { state: "unreachable", detail: error.message };
    throw error;
  }
}

/** Asks the host's provider whether it accepts the token (nothing, offline). */
async function check(
  providerOf: (host: HostRef) => Promise<Provider>,
  host: HostRef,
  token: string,
  options: StatusOptions & { clientId?: string },
): Promise<TokenCheck> {
  if (options.offline) return { state: "unchecked" };
  try {
    const provider = await providerOf(host);
    return await provider.check(token, {
      clientId: options.clientId ?? "loopauth",
      signal: options.signal,
    });
  } catch (error) {
    // An issuer whose metadata cannot be read: the token could not be checked.
    if (!(error instanceof LoopauthError) || error.code === "cancelled") throw error;
    if (error.code === "network") return { state: "unreachable", detail: error.message };
    return { state: "error", detail: error.message };
  }
}
