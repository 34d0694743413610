/**
 * Accounts: the config file's metadata joined with the secrets in their
 * store. Every change happens under the config directory's lock; secrets
 * are written before the metadata that points to them and removed before it.
 * @module
 */
import type { App } from "../core/app.ts";
import { loginCommand, LoopauthError } from "../core/errors.ts";
import type { Secrets, SecretStore, StorageName } from "./secrets.ts";
import type { TokenSet } from "../core/types.ts";
import { openStore } from "./secret_store.ts";
import { isBearerToken, NOT_A_BEARER_TOKEN } from "../core/token_syntax.ts";
import { type AccountRecord, readConfig, writeConfig } from "./config.ts";

/**
 * `current` with the answer of a refresh: the new token set, keeping the
 * refresh token (and its expiry) when the server sent no new one (RFC 6749
 * §6: the old one stays valid) and the scopes when it named none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refreshedAccount, type StoredAccount } from "./accounts.ts";
 * const current = {
 *   host: "github.com", login: "octocat", clientId: "Iv1.x", storage: "file",
 *   token: { accessToken: "a", tokenType: "bearer", scopes: ["repo"], refreshToken: "r" },
 * } as StoredAccount;
 * const next = refreshedAccount(current, "r", { accessToken: "b", tokenType: "bearer", scopes: [] });
 * assert.deepEqual([next.token.accessToken, next.token.refreshToken, next.token.scopes], ["b", "r", ["repo"]]);
 * ```
 */
export function refreshedAccount(
  current: StoredAccount,
  refreshToken: string,
  tokens: TokenSet,
): StoredAccount {
  return {
    ...current,
    token: {
      refreshToken,
      ...(current.token.refreshTokenExpiresAt
        ? { refreshTokenExpiresAt: current.token.refreshTokenExpiresAt }
        : {}),
      ...tokens,
      scopes: tokens.scopes.length ? tokens.scopes : current.token.scopes,
    },
  };
}

/**
 * Under the lock: starts writing the account's secrets first, before
 * anything else is read or done, so that a refreshed pair is on disk as soon
 * as possible (the old refresh token is spent); then reads the config. The
 * caller observes `stored` (writeConfig's `after`).
 */
async function secretsFirst(
  store: SecretStore,
  account: StoredAccount,
  { login, dir }: { login: string; dir: string },
): Promise<{ stored: Promise<void>; config: ReturnType<typeof readConfig> }> {
  const stored = store.set(account.host, login, secretsOf(account));
  stored.catch(() => {}); // observed by the caller, not unhandled meanwhile
  try {
    return { stored, config: readConfig(dir) };
  } catch (error) {
    await stored.catch(() => {});
    throw error;
  }
}

/** One logged-in account on one host, secrets included. */
export interface StoredAccount {
  /** Host key: `github.com`, `ghe.example.com` or an `http://` loopback origin. */
  host: string;
  /** The user's login name. */
  login: string;
  /** Client id of the app the token belongs to (needed to revoke and refresh). */
  clientId: string;
  /** Client secret, when the login used one (needed to refresh and revoke). */
  clientSecret?: string;
  /** The tokens. */
  token: TokenSet;
  /** When the login happened (ISO time). */
  createdAt: string;
  /** Where the secrets are kept. */
  storage: StorageName;
  /** True when `host` is an OAuth 2.0 / OpenID Connect issuer URL (`--issuer`). */
  issuer?: true;
  /** A resource account's authorization server (`host` is then the resource's URI). */
  authorizationServer?: string;
  /** A resource account's token endpoint authentication. */
  authMethod?: string;
}

/** Options of the account functions. */
export interface AccountStoreOptions {
  /** The config directory. */
  dir: string;
  /** Milliseconds a keyring call may take. */
  keyringTimeout?: number;
  /** The app whose accounts these are (default loopauth): its keyring service and agent. */
  app?: App;
  /** Aborting stops a wait for the lock and kills a keyring program still running. */
  signal?: AbortSignal;
}

/** The lock, only for writes: a read (`token`) loads none of its code. */
const lock = () => import("./lock.ts");

/**
 * The account of a host: `login`, else the host's active one; `undefined`
 * when there is none. Metadata whose secrets are gone is a `not_logged_in`
 * error that says so.
 *
 * @example
 * ```ts ignore
 * import { findAccount } from "./accounts.ts";
 * const account = await findAccount("github.com", undefined, { dir: "/tmp/loopauth" });
 * ```
 */
export async function findAccount(
  host: string,
  login: string | undefined,
  options: AccountStoreOptions,
): Promise<StoredAccount | undefined> {
  const config = readConfig(options.dir);
  const entry = Object.hasOwn(config.hosts, host) ? config.hosts[host] : undefined;
  const name = login ?? entry?.active ?? soleAccount(entry?.accounts);
  if (!entry || name === undefined || !Object.hasOwn(entry.accounts, name)) return undefined;
  return await loadAccount(host, entry.accounts[name], options);
}

/**
 * The account of a config record already read: its secrets joined in.
 * Metadata whose secrets are gone is a `not_logged_in` error that says so;
 * an access token that is no bearer token (an old store, a tampered file,
 * a forwarded agent's `set`: it could hold terminal escapes or header
 * lines) is a `storage` error that never shows it.
 *
 * @example
 * ```ts ignore
 * import { loadAccount } from "./accounts.ts";
 * import { readConfig } from "./config.ts";
 * const { hosts } = readConfig("/tmp/loopauth");
 * const record = hosts["github.com"]?.accounts.octocat;
 * if (record) await loadAccount("github.com", record, { dir: "/tmp/loopauth" });
 * ```
 */
export async function loadAccount(
  host: string,
  record: AccountRecord,
  options: AccountStoreOptions,
): Promise<StoredAccount> {
  const store = openStore(record.storage, options);
  const secrets = await store.get(host, record.login);
  if (!secrets) {
    throw new LoopauthError(
      "not_logged_in",
      `The token of ${record.login} on ${host} is missing from ${store.location}: run ${
        loginCommand(host, {
          issuer: record.issuer,
          resource: record.authorizationServer !== undefined,
        })
      }`,
    );
  }
  // Checked on every read, not only when stored: the store may have been written by anyone.
  const refused = (why: string) =>
    new LoopauthError(
      "storage",
      `The token of ${record.login} on ${host} in ${store.location} ${why}: run ${
        loginCommand(host, {
          issuer: record.issuer,
          resource: record.authorizationServer !== undefined,
        })
      }`,
    );
  if (!isBearerToken(secrets.accessToken)) throw refused(NOT_A_BEARER_TOKEN);
  // Expiry times are shown by status and decide refreshes: ISO times only.
  for (const time of [secrets.expiresAt, secrets.refreshTokenExpiresAt]) {
    if (time !== undefined && !isIsoTime(time)) throw refused("has an expiry that is no time");
  }
  return joinAccount(host, record, secrets);
}

/** Whether `text` is a time as loopauth stores one (ISO: digits, `-:.+`, `T`, `Z`). */
function isIsoTime(text: unknown): boolean {
  return typeof text === "string" && /^[0-9T:.+\-Z]{1,40}$/.test(text) &&
    Number.isFinite(Date.parse(text));
}

/**
 * Stores an account: secrets in `store`, then metadata in the config file;
 * the account becomes its host's active one (with `activate: false` only
 * when the host has none).
 *
 * @example
 * ```ts ignore
 * import { saveAccount } from "./accounts.ts";
 * import { fileStore } from "./file.ts";
 * await saveAccount({
 *   host: "github.com", login: "octocat", clientId: "Iv1.abc", storage: "file",
 *   createdAt: new Date().toISOString(), token: { accessToken: "gho_…", tokenType: "bearer", scopes: [] },
 * }, fileStore({ dir: "/tmp/loopauth" }), { dir: "/tmp/loopauth" });
 * ```
 */
export async function saveAccount(
  account: StoredAccount,
  store: SecretStore,
  options: AccountStoreOptions & { activate?: boolean },
): Promise<void> {
  await (await lock()).withLock(options.dir, async () => {
    const { stored, config } = await secretsFirst(store, account, {
      login: account.login,
      dir: options.dir,
    });
    const entry = config.hosts[account.host] ??= { accounts: {} };
    const previous = Object.hasOwn(entry.accounts, account.login)
      ? entry.accounts[account.login]
      : undefined;
    entry.accounts[account.login] = recordOf({ ...account, storage: store.name });
    if (options.activate ?? true) entry.active = account.login;
    else entry.active ??= account.login; // a host's first account is its active one anyway
    // The config is written while the secret is stored, and replaced only
    // after it was: it never names an account whose secret is missing.
    await writeConfig(config, options.dir, { after: stored });
    if (previous && previous.storage !== store.name) {
      await openStore(previous.storage, options).delete(account.host, account.login);
    }
  }, { signal: options.signal });
}

/**
 * Removes an account's metadata, then its secrets; true when it existed.
 * Another account of the host becomes active if the removed one was.
 *
 * @example
 * ```ts ignore
 * import { removeAccount } from "./accounts.ts";
 * await removeAccount("github.com", "octocat", { dir: "/tmp/loopauth" });
 * ```
 */
export async function removeAccount(
  host: string,
  login: string,
  options: AccountStoreOptions,
): Promise<boolean> {
  return await (await lock()).withLock(options.dir, async () => {
    const config = readConfig(options.dir);
    const entry = Object.hasOwn(config.hosts, host) ? config.hosts[host] : undefined;
    if (!entry || !Object.hasOwn(entry.accounts, login)) return false;
    const storage = entry.accounts[login].storage;
    delete entry.accounts[login];
    if (entry.active === login) entry.active = Object.keys(entry.accounts)[0];
    if (entry.active === undefined) delete entry.active;
    if (Object.keys(entry.accounts).length === 0) delete config.hosts[host];
    // Metadata first: a crash in between leaves an unreferenced secret (the
    // next login of that account replaces it), never an account without one.
    await writeConfig(config, options.dir);
    await openStore(storage, options).delete(host, login);
    return true;
  }, { signal: options.signal });
}

/**
 * Makes `login` the active account of `host`.
 *
 * @example
 * ```ts ignore
 * import { setActiveAccount } from "./accounts.ts";
 * await setActiveAccount("github.com", "hubot", { dir: "/tmp/loopauth" });
 * ```
 */
export async function setActiveAccount(
  host: string,
  login: string,
  options: AccountStoreOptions,
): Promise<void> {
  await (await lock()).withLock(options.dir, async () => {
    const config = readConfig(options.dir);
    const entry = Object.hasOwn(config.hosts, host) ? config.hosts[host] : undefined;
    if (!entry || !Object.hasOwn(entry.accounts, login)) {
      throw new LoopauthError(
        "not_logged_in",
        `No account ${login} on ${host}: run ${
          loginCommand(host, {
            issuer: Object.values(entry?.accounts ?? {}).some((account) => account.issuer),
          })
        }`,
      );
    }
    entry.active = login;
    await writeConfig(config, options.dir);
  }, { signal: options.signal });
}

function soleAccount(accounts: Record<string, AccountRecord> | undefined): string | undefined {
  const names = Object.keys(accounts ?? {});
  return names.length === 1 ? names[0] : undefined;
}

function joinAccount(host: string, record: AccountRecord, secrets: Secrets): StoredAccount {
  const token: TokenSet = {
    accessToken: secrets.accessToken,
    tokenType: record.tokenType ?? "bearer",
    scopes: record.scopes,
  };
  if (secrets.expiresAt) token.expiresAt = secrets.expiresAt;
  if (secrets.refreshToken) token.refreshToken = secrets.refreshToken;
  if (secrets.refreshTokenExpiresAt) token.refreshTokenExpiresAt = secrets.refreshTokenExpiresAt;
  return {
    host,
    login: record.login,
    clientId: record.clientId,
    ...(secrets.clientSecret ? { clientSecret: secrets.clientSecret } : {}),
    token,
    createdAt: record.createdAt,
    storage: record.storage,
    ...(record.issuer ? { issuer: true as const } : {}),
    ...(record.authorizationServer
      ? { authorizationServer: record.authorizationServer, authMethod: record.authMethod }
      : {}),
  };
}

function secretsOf(account: StoredAccount): Secrets {
  const { accessToken, refreshToken, expiresAt, refreshTokenExpiresAt } = account.token;
  return {
    accessToken,
    ...(refreshToken ? { refreshToken } : {}),
    ...(expiresAt ? { expiresAt } : {}),
    ...(refreshTokenExpiresAt ? { refreshTokenExpiresAt } : {}),
    ...(account.clientSecret ? { clientSecret: account.clientSecret } : {}),
  };
}

function recordOf(account: StoredAccount): AccountRecord {
  const { expiresAt, refreshTokenExpiresAt } = account.token;
  return {
    login: account.login,
    clientId: account.clientId,
    scopes: account.token.scopes,
    storage: account.storage,
    tokenType: account.token.tokenType,
    ...(expiresAt ? { expiresAt } : {}),
    ...(refreshTokenExpiresAt ? { refreshTokenExpiresAt } : {}),
    createdAt: account.createdAt,
    ...(account.issuer ? { issuer: true as const } : {}),
    ...(account.authorizationServer
      ? { authorizationServer: account.authorizationServer, authMethod: account.authMethod }
      : {}),
  };
}

/** The name a resource account's secrets are kept under: a resource names no user. */
const RESOURCE_LOGIN = "user";

/**
 * The stored account of a resource (`login --resource`, `mcp-proxy`), by its
 * canonical URI; `undefined` when there is none.
 *
 * @example
 * ```ts ignore
 * import { findResourceAccount } from "./accounts.ts";
 * const account = await findResourceAccount("https://mcp.example.com/mcp", { dir: "/tmp/loopauth" });
 * console.log(account?.authorizationServer);
 * ```
 */
export async function findResourceAccount(
  resource: string,
  options: AccountStoreOptions,
): Promise<StoredAccount | undefined> {
  const resources = readConfig(options.dir).resources ?? {};
  if (!Object.hasOwn(resources, resource)) return undefined;
  const record = resources[resource];
  if (typeof record.authorizationServer !== "string") return undefined;
  return await loadAccount(resource, { ...record, login: RESOURCE_LOGIN }, options);
}

/**
 * Stores a resource account (`host` is the resource's URI and
 * `authorizationServer` is set): its secrets in `store`, then its record,
 * under the lock, as {@linkcode saveAccount} does.
 *
 * @example
 * ```ts ignore
 * import { saveResourceAccount } from "./accounts.ts";
 * import { fileStore } from "./file.ts";
 * await saveResourceAccount({
 *   host: "https://mcp.example.com/mcp", login: "user", clientId: "c", storage: "file",
 *   authorizationServer: "https://auth.example.com", authMethod: "none",
 *   createdAt: new Date().toISOString(), token: { accessToken: "t", tokenType: "bearer", scopes: [] },
 * }, fileStore({ dir: "/tmp/loopauth" }), { dir: "/tmp/loopauth" });
 * ```
 */
export async function saveResourceAccount(
  account: StoredAccount,
  store: SecretStore,
  options: AccountStoreOptions,
): Promise<void> {
  await (await lock()).withLock(options.dir, async () => {
    const { stored, config } = await secretsFirst(store, account, {
      login: RESOURCE_LOGIN,
      dir: options.dir,
    });
    const resources = config.resources ??= {};
    const previous = Object.hasOwn(resources, account.host) ? resources[account.host] : undefined;
    resources[account.host] = recordOf({
      ...account,
      login: RESOURCE_LOGIN,
      storage: store.name,
    });
    await writeConfig(config, options.dir, { after: stored });
    if (previous && previous.storage !== store.name) {
      await openStore(previous.storage, options).delete(account.host, RESOURCE_LOGIN);
    }
  });
}

/**
 * Forgets a resource account: its record, then its secrets; true when it
 * existed.
 *
 * @example
 * ```ts ignore
 * import { removeResourceAccount } from "./accounts.ts";
 * await removeResourceAccount("https://mcp.example.com/mcp", { dir: "/tmp/loopauth" });
 * ```
 */
export async function removeResourceAccount(
  resource: string,
  options: AccountStoreOptions,
): Promise<boolean> {
  // Loaded here: `token` reads accounts and forgets none (tests/system/startup_test.ts).
  const { forgetRecord } = await import("./forget_record.ts");
  return await forgetRecord("resources", resource, {
    dir: options.dir,
    forgetSecret: (record) => openStore(record.storage, options).delete(resource, RESOURCE_LOGIN),
  });
}

/** The app a host's account logged in with, and what it was granted. */
export interface StoredApp {
  /** The account it belongs to. */
  login: string;
  /** The app's client id. */
  clientId: string;
  /** Its client secret, when the login used one and the store still holds it. */
  clientSecret?: string;
  /** The account's granted scopes. */
  scopes: string[];
}

/**
 * The app of a host's account (`login`, else the active one, else the only
 * one), so a later login needs no `--client-id` and keeps the scopes; the
 * secret only when its store answers. `undefined` when the host has no
 * account or the config cannot be read (a login then asks as on a first
 * run; the login itself reports an unusable config directory).
 *
 * @example
 * ```ts
 * import { storedApp } from "./accounts.ts";
 * const app = await storedApp("github.com", undefined, { dir: "/tmp/loopauth" });
 * console.log(app?.clientId);
 * ```
 */
export async function storedApp(
  host: string,
  login: string | undefined,
  options: AccountStoreOptions,
): Promise<StoredApp | undefined> {
  let entry;
  try {
    const config = readConfig(options.dir);
    entry = Object.hasOwn(config.hosts, host) ? config.hosts[host] : undefined;
  } catch {
    return undefined;
  }
  const name = login ?? entry?.active ?? soleAccount(entry?.accounts);
  if (!entry || name === undefined || !Object.hasOwn(entry.accounts, name)) return undefined;
  const record = entry.accounts[name];
  const app: StoredApp = { login: record.login, clientId: record.clientId, scopes: record.scopes };
  try {
    const secrets = await openStore(record.storage, options).get(host, record.login);
    if (secrets?.clientSecret) app.clientSecret = secrets.clientSecret;
  } catch { /* a store that does not answer: the login asks for the secret as usual */ }
  return app;
}
