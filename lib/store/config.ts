/**
 * The per-user config file: hosts, their accounts' non-secret metadata
 * (login, client id, scopes, store, expiry times) and the active
 * account of each host. Secrets are never written here.
 * @module
 */
import { isRecord } from "../core/json.ts";
import { checkConfigDir } from "./dir_safety.ts";
import { readJsonFile, writeFileAtomic, type WriteFileAtomicOptions } from "./file.ts";
import { STORAGE_NAMES, type StorageName } from "./secrets.ts";
import { joinPath, STORE_FILES } from "./paths.ts";

/** One account's metadata. */
export interface AccountRecord {
  /** The user's login name. */
  login: string;
  /** Client id of the app the token belongs to (needed to revoke and refresh). */
  clientId: string;
  /** Granted scopes. */
  scopes: string[];
  /** Where the secrets are. */
  storage: StorageName;
  /** `bearer` for GitHub. */
  tokenType: string;
  /** ISO time the access token expires, when it does. */
  expiresAt?: string;
  /** ISO time the refresh token expires, when there is one. */
  refreshTokenExpiresAt?: string;
  /** When the login happened (ISO time). */
  createdAt: string;
  /** True when the host key is an OAuth 2.0 / OpenID Connect issuer URL (`--issuer`). */
  issuer?: true;
  /** A resource account's authorization server (its issuer): the token is bound to both. */
  authorizationServer?: string;
  /** A resource account's token endpoint authentication (`none`, `client_secret_basic`, …). */
  authMethod?: string;
}

/**
 * A client registered (RFC 7591) at an authorization server, reused by later
 * logins there. A confidential client's secret is never written here: it is
 * kept in `storage`, as tokens are.
 */
export interface RegistrationRecord {
  /** The registered client id. */
  clientId: string;
  /** The redirect URI it was registered with (the login listens there again). */
  redirectUri: string;
  /** A confidential client's token endpoint authentication (`client_secret_basic`, …). */
  authMethod?: string;
  /** Where a confidential client's secret is kept. */
  storage?: StorageName;
  /** ISO time its secret expires (RFC 7591 `client_secret_expires_at`; absent: never). */
  secretExpiresAt?: string;
  /**
   * The grants it was registered for (RFC 7591 `grant_types`); absent in a
   * record an earlier release stored, which then counts as lacking the device grant.
   */
  grantTypes?: string[];
}

/** One host's accounts. */
export interface HostRecord {
  /** Login of the account used when `--user` is not given. */
  active?: string;
  /** Accounts by login. */
  accounts: Record<string, AccountRecord>;
}

/** The whole config file. */
export interface Config {
  /** Format version. */
  version: 1;
  /** Hosts by key (`github.com`, a GHES host, an `http://` loopback origin). */
  hosts: Record<string, HostRecord>;
  /** Resource accounts (`login --resource`) by the resource's canonical URI. */
  resources?: Record<string, AccountRecord>;
  /** Registrations by authorization server issuer and client name (`ISSUER NAME`). */
  registrations?: Record<string, RegistrationRecord>;
}

const WHAT = "loopauth config file";

/**
 * The path of the config file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configPath } from "./config.ts";
 * assert.equal(configPath("/tmp/loopauth"), "/tmp/loopauth/config.json");
 * ```
 */
export function configPath(dir: string): string {
  return joinPath(dir, STORE_FILES.config);
}

/**
 * Reads the config file (empty when there is none); a corrupted file is a
 * `storage` error naming it, and so is a directory other users could have
 * planted it in (see ./dir_safety.ts).
 *
 * @example
 * ```ts ignore
 * import { readConfig } from "./config.ts";
 * const config = readConfig("/tmp/loopauth");
 * console.log(Object.keys(config.hosts));
 * ```
 */
export function readConfig(dir: string): Config {
  checkConfigDir(dir);
  const path = configPath(dir);
  const data = readJsonFile(path, WHAT, { valid: isValid });
  if (data === undefined) return { version: 1, hosts: {} };
  return {
    version: 1,
    hosts: data.hosts as Config["hosts"],
    ...(isRecord(data.resources) ? { resources: data.resources as Config["resources"] } : {}),
    ...(isRecord(data.registrations)
      ? { registrations: data.registrations as Config["registrations"] }
      : {}),
  };
}

/**
 * Writes the config file atomically (mode 0600); returns its path.
 *
 * @example
 * ```ts ignore
 * import { writeConfig } from "./config.ts";
 * await writeConfig({ version: 1, hosts: {} }, "/tmp/loopauth");
 * ```
 */
export async function writeConfig(
  config: Config,
  dir: string,
  options: WriteFileAtomicOptions = {},
): Promise<string> {
  const path = configPath(dir);
  await writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`, options);
  return path;
}

function isValid(data: Record<string, unknown>): boolean {
  if (data.version !== 1 || !isRecord(data.hosts)) return false;
  if (data.resources !== undefined && !isRecord(data.resources)) return false;
  if (
    data.registrations !== undefined &&
    !(isRecord(data.registrations) &&
      Object.values(data.registrations).every((r) =>
        isRecord(r) && typeof r.clientId === "string" && typeof r.redirectUri === "string"
      ))
  ) return false;
  if (!Object.values(data.resources ?? {}).every(isAccountRecord)) return false;
  return Object.values(data.hosts).every((host) =>
    isRecord(host) && isRecord(host.accounts) &&
    (host.active === undefined || typeof host.active === "string") &&
    Object.values(host.accounts).every(isAccountRecord)
  );
}

function isAccountRecord(account: unknown): boolean {
  return isRecord(account) && typeof account.login === "string" &&
    typeof account.clientId === "string" && Array.isArray(account.scopes) &&
    (STORAGE_NAMES.includes(account.storage as StorageName) || account.storage === "memory");
}
