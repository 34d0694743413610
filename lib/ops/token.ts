/**
 * `getToken` and `getAccount`: the stored token of a host, refreshed when it
 * is about to expire, or a token from the environment.
 * @module
 */
import { type App, appEnv, appEnvName, type AppOption, inApp, resolveApp } from "../core/app.ts";
import { loginCommand, LoopauthError } from "../core/errors.ts";
import { type GitHubHost, resolveGitHubHost } from "../providers/github_host.ts";
import type { HostRef } from "../providers/registry.ts";
import { needsRefresh } from "../core/expiry.ts";
import { findAccount, type StoredAccount } from "../store/accounts.ts";
import type { StorageName } from "../store/secrets.ts";
import type { IssuerRef } from "../providers/issuer_url.ts";
import { type Config, readConfig } from "../store/config.ts";
import { configDir } from "../store/paths.ts";
import { readEnvVar } from "../core/env_vars.ts";
import { isBearerToken, NOT_A_BEARER_TOKEN } from "../core/token_syntax.ts";
import { terminalSafe } from "../core/text.ts";

/** Options of {@linkcode getToken} and {@linkcode getAccount}. */
export interface GetTokenOptions extends AppOption {
  /** `github.com` (default), a GHES host, or an `http://` loopback origin. */
  hostname?: string;
  /** An OAuth 2.0 / OpenID Connect issuer URL (accounts from `login({ issuer })`) instead. */
  issuer?: string;
  /** The account's login (default: the host's active account). */
  user?: string;
  /**
   * The environment variable `user` came from (the CLI's `LOOPAUTH_USER`):
   * when it names no account of the host, the message names the variable
   * and the host's accounts instead of suggesting a login.
   */
  userVariable?: string;
  /** Where accounts are stored (default: the user's config directory). */
  configDir?: string;
  /**
   * Let a token from the environment win over the stored token, as the CLI
   * does (default false): see {@linkcode envTokenVariables}.
   */
  fromEnv?: boolean;
  /** Aborting cancels a refresh request. */
  signal?: AbortSignal;
  /**
   * Refresh now, whatever the stored expiry time says, when the account has
   * a refresh token (for example after the API answered 401; default false).
   */
  forceRefresh?: boolean;
}

/** A token from the environment, and the variable it came from. */
export interface EnvToken {
  /** The token. */
  token: string;
  /**
   * `LOOPAUTH_TOKEN`, `GH_TOKEN` or `GITHUB_TOKEN`, or for a GitHub
   * Enterprise Server host `GH_ENTERPRISE_TOKEN` or `GITHUB_ENTERPRISE_TOKEN`.
   */
  variable: string;
}

/**
 * The variables that may hold a host's token, first wins, by gh's rules
 * (go-gh `pkg/auth`): `LOOPAUTH_TOKEN` for any host; then for github.com
 * (and its subdomains), a `*.ghe.com` tenancy and `github.localhost`:
 * `GH_TOKEN`, `GITHUB_TOKEN`; for any other GitHub host (Enterprise
 * Server): `GH_ENTERPRISE_TOKEN`, `GITHUB_ENTERPRISE_TOKEN`, and in a
 * Codespace (`CODESPACES` true) `GITHUB_TOKEN`. An issuer: `LOOPAUTH_TOKEN`
 * only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { envTokenVariables } from "./token.ts";
 * assert.deepEqual(envTokenVariables("ghe.example.com"), [
 *   "LOOPAUTH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN",
 * ]);
 * ```
 */
export function envTokenVariables(
  host: string | HostRef,
  env: (name: string) => string | undefined = readEnvVar,
): string[] {
  if (typeof host !== "string" && "issuer" in host) return ["LOOPAUTH_TOKEN"];
  const key = (typeof host === "string" ? host : host.key).toLowerCase();
  if (!isEnterprise(key)) return ["LOOPAUTH_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"];
  // strconv.ParseBool's true values, as gh reads CODESPACES.
  const codespace = ["1", "t", "T", "TRUE", "true", "True"].includes(env("CODESPACES") ?? "");
  return [
    "LOOPAUTH_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    ...(codespace ? ["GITHUB_TOKEN"] : []),
  ];
}

/** gh's `IsEnterprise`: not github.com (or a subdomain), github.localhost or a ghe.com tenancy. */
function isEnterprise(key: string): boolean {
  const name = key.replace(/^https?:\/\//, "").replace(/:\d+$/, "");
  return !(name === "github.com" || name.endsWith(".github.com") || name === "github.localhost" ||
    name.endsWith(".github.localhost") || name.endsWith(".ghe.com"));
}

/**
 * The environment's token for a host, from the first of
 * {@linkcode envTokenVariables} that is set. A value that is not a bearer
 * token (a CR/LF, a space) is a `usage` error that does not show it.
 *
 * @example
 * ```ts
 * import { envToken } from "./token.ts";
 * const found = envToken("github.com");
 * if (found) console.error(`Using ${found.variable}`);
 * ```
 */
export function envToken(
  host: string | HostRef,
  env: (name: string) => string | undefined = readEnvVar,
): EnvToken | undefined {
  for (const variable of envTokenVariables(host, env)) {
    const token = env(variable)?.trim();
    if (!token) continue;
    if (!isBearerToken(token)) {
      throw new LoopauthError(
        "usage",
        `${variable} ${NOT_A_BEARER_TOKEN}: set it to the token alone, or unset it`,
      );
    }
    return { token, variable };
  }
  return undefined;
}

/**
 * The stored account of a host (the `user`, else the active one), with its
 * access token refreshed first when it expires within a minute; a
 * `not_logged_in` error when there is none.
 *
 * @throws {LoopauthError} as {@linkcode getToken}
 *
 * @example
 * ```ts ignore
 * import { getAccount } from "./token.ts";
 * const account = await getAccount({ hostname: "github.com" });
 * console.log(account.login, account.token.scopes);
 * ```
 */
export async function getAccount(options: GetTokenOptions = {}): Promise<StoredAccount> {
  const app = resolveApp(options.app);
  return await inApp(app, async () => {
    const asApp = { ...options, app };
    return await freshAccountOf(await resolveHost(asApp), asApp);
  });
}

/** {@linkcode getAccount} for a host already resolved. */
async function freshAccountOf(
  host: GitHubHost | IssuerRef,
  options: GetTokenOptions,
): Promise<StoredAccount> {
  const account = await storedAccount(host, options);
  if (!options.forceRefresh && !needsRefresh(account.token.expiresAt)) return account;
  // Only a token that expires soon loads the refresh (its provider and the lock).
  const { renewAccount } = await import("./refresh.ts");
  const app = resolveApp(options.app);
  return await renewAccount(host, account, {
    dir: options.configDir ?? configDir({ app }),
    app,
    signal: options.signal,
    force: options.forceRefresh,
  });
}

/**
 * The stored account of a host as it is (no refresh); a `not_logged_in`
 * error when there is none.
 *
 * @example
 * ```ts ignore
 * import { storedAccount } from "./token.ts";
 * import { resolveGitHubHost } from "../providers/github_host.ts";
 * const account = await storedAccount(resolveGitHubHost("github.com"), { user: "octocat" });
 * ```
 */
export async function storedAccount(
  host: GitHubHost | IssuerRef,
  options: Pick<
    GetTokenOptions,
    "user" | "userVariable" | "configDir" | "hostname" | "issuer" | "app" | "signal"
  > = {},
): Promise<StoredAccount> {
  const app = resolveApp(options.app);
  const account = await findAccount(host.key, options.user, {
    dir: options.configDir ?? configDir({ app }),
    app,
    signal: options.signal,
  });
  if (!account && options.user !== undefined && options.userVariable) {
    throw notThere(host, options.user, { ...options, userVariable: options.userVariable });
  }
  if (!account) {
    const as = options.user ? ` as ${options.user}` : "";
    const again = loginCommand(host.key, { issuer: "issuer" in host });
    const given = options.user ?? options.hostname ?? options.issuer;
    const elsewhere = given === undefined ? storedElsewhere(host.key, options) : "";
    throw new LoopauthError(
      "not_logged_in",
      `Not logged in to ${host.key}${as}: run ${again}${elsewhere}`,
    );
  }
  return account;
}

/**
 * The error for an account named by an environment variable that is not
 * logged in to the host: the way out is another value (the host's accounts)
 * or none (the active account). A login is suggested only where the host
 * has no account (it would make the new one active for every process).
 */
function notThere(
  host: GitHubHost | IssuerRef,
  user: string,
  options: Pick<GetTokenOptions, "configDir" | "app"> & { userVariable: string },
): LoopauthError {
  const key = host.key;
  const config = readConfig(options.configDir ?? configDir({ app: resolveApp(options.app) }));
  const logins = Object.hasOwn(config.hosts, key)
    ? Object.keys(config.hosts[key].accounts).map((login) => terminalSafe(login, { max: 100 }))
    : [];
  const shown = terminalSafe(user, { max: 100 });
  const variable = options.userVariable;
  const names = logins.length > 1
    ? `${logins.slice(0, -1).join(", ")} or ${logins.at(-1)}`
    : logins[0];
  const fix = names
    ? `set ${variable} to ${names}`
    : `log in as ${shown} with ${loginCommand(key, { issuer: "issuer" in host })}`;
  return new LoopauthError(
    "not_logged_in",
    `${variable} names ${shown}, who is not logged in to ${key}: ${fix}, or unset ${variable}`,
  );
}

/**
 * With no host given, github.com is the default (as in gh): the hosts that
 * are stored instead, and the flag for each (`""` when none).
 */
function storedElsewhere(
  key: string,
  options: Pick<GetTokenOptions, "configDir" | "app">,
): string {
  const config = readConfig(options.configDir ?? configDir({ app: resolveApp(options.app) }));
  const others = Object.entries(config.hosts).filter(([other]) => other !== key);
  if (others.length === 0) return "";
  const flags = others.map(([other, entry]) =>
    `${Object.values(entry.accounts).some((a) => a.issuer) ? "--issuer" : "--hostname"} ${other}`
  );
  return `, or use ${flags.join(" or ")} (logged in there)`;
}

/**
 * The access token of a host: from the environment when `fromEnv` is set
 * and a variable applies, else the stored one (refreshed when needed).
 *
 * @example
 * ```ts ignore
 * import { getToken } from "./token.ts";
 * const token = await getToken({ hostname: "github.com" });
 * ```
 */
export async function getToken(options: GetTokenOptions = {}): Promise<string> {
  return (await tokenInfo(options)).token;
}

/**
 * What {@linkcode tokenInfo} returns: a host's access token and what is
 * known about it (never its refresh token).
 */
export interface TokenInfo {
  /** The host key (`github.com`, a GHES host, a loopback origin or an issuer URL). */
  host: string;
  /** The account's login; `null` for a token from the environment (not asked). */
  login: string | null;
  /** The access token. */
  token: string;
  /** Its type as the server named it (`bearer`). */
  tokenType: string;
  /** ISO time it expires; `null` when it does not (or is not known to). */
  expiresAt: string | null;
  /** Its granted scopes; `null` for a token from the environment (not known). */
  scopes: string[] | null;
  /** Where it came from: the storage of the account, or `env`. */
  source: StorageName | "env";
  /** With `source` `env`: the variable (e.g. `GH_TOKEN`). */
  variable?: string;
}

/**
 * The access token of a host as {@linkcode getToken} picks it (environment
 * first with `fromEnv`, else the stored account refreshed when needed), with
 * its account, type, expiry, scopes and source: for `token --json` and
 * Kubernetes' `ExecCredential`.
 *
 * @example
 * ```ts ignore
 * import { tokenInfo } from "./token.ts";
 * const { token, expiresAt } = await tokenInfo({ hostname: "github.com" });
 * ```
 */
export async function tokenInfo(options: GetTokenOptions = {}): Promise<TokenInfo> {
  const app = resolveApp(options.app);
  return await inApp(app, () => tokenInfoAs({ ...options, app }));
}

/** {@linkcode tokenInfo} for an app resolved once. */
async function tokenInfoAs(options: GetTokenOptions & { app: App }): Promise<TokenInfo> {
  const host = await resolveHost(options);
  if (options.fromEnv) {
    const found = envToken(host, appEnv(options.app));
    if (found) {
      return {
        host: host.key,
        login: null,
        token: found.token,
        tokenType: "bearer",
        expiresAt: null,
        scopes: null,
        source: "env",
        variable: appEnvName(options.app, found.variable),
      };
    }
  }
  const account = await freshAccountOf(host, options);
  return {
    host: account.host,
    login: account.login,
    token: account.token.accessToken,
    tokenType: account.token.tokenType,
    expiresAt: account.token.expiresAt ?? null,
    scopes: account.token.scopes,
    source: account.storage,
  };
}

/**
 * The host of `hostname`, or of `issuer` (its key as stored).
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { resolveHost } from "./token.ts";
 * const configDir = await Deno.makeTempDir(); // no accounts stored
 * const host = await resolveHost({ issuer: "https://id.example.com", configDir });
 * assert.equal(host.key, "https://id.example.com");
 * ```
 */
export async function resolveHost(
  options: Pick<GetTokenOptions, "hostname" | "issuer" | "configDir" | "app">,
): Promise<GitHubHost | IssuerRef> {
  if (options.issuer === undefined) return resolveGitHubHost(options.hostname);
  const config = readConfig(options.configDir ?? configDir({ app: resolveApp(options.app) }));
  const { issuerRef } = await import("../providers/issuer_url.ts"); // GitHub's hosts need none of it
  return issuerRef(options.issuer, Object.keys(config.hosts));
}

/**
 * The host a key of the config file stands for: an issuer when its accounts
 * came from `--issuer` logins, else GitHub or GHES.
 *
 * @example
 * ```ts ignore
 * import { storedHost } from "./token.ts";
 * import { type Config, readConfig } from "../store/config.ts";
 * const config = readConfig("/tmp/loopauth");
 * for (const key of Object.keys(config.hosts)) console.log(storedHost(config, key).key);
 * ```
 */
export function storedHost(config: Config, key: string): GitHubHost | IssuerRef {
  const accounts = Object.hasOwn(config.hosts, key) ? config.hosts[key].accounts : {};
  return Object.values(accounts).some((a) => a.issuer)
    ? { key, issuer: true }
    : resolveGitHubHost(key);
}
