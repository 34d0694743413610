/**
 * Clients registered (RFC 7591) at resources' authorization servers, kept
 * for later logins there by any process: the client id and redirect URI in
 * the config file, a confidential client's secret in a secret store (the
 * keyring, the agent, the encrypted file or the 0600 file: never the config
 * file). A registration is keyed by `ISSUER NAME` and its secret by the
 * issuer, so neither is ever sent to another server; the secret's host key
 * is `registration ISSUER`, apart from the accounts at that issuer.
 * @module
 */
import { isPast } from "../core/expiry.ts";
import type { App } from "../core/app.ts";
import { readConfig, type RegistrationRecord, writeConfig } from "./config.ts";
import { forgetRecord } from "./forget_record.ts";
import { openStore } from "./secret_store.ts";
import type { SecretStore } from "./secrets.ts";

/** A registration as a login uses it: the record, with its secret when it has one. */
export interface StoredRegistration {
  /** The registered client id. */
  clientId: string;
  /** The redirect URI it was registered with. */
  redirectUri: string;
  /** A confidential client's secret. */
  clientSecret?: string;
  /** Its token endpoint authentication (`none` for a public client). */
  authMethod: string;
  /** ISO time the secret expires (absent: never). */
  secretExpiresAt?: string;
  /** The grants it was registered for (absent: not known, a record of an earlier release). */
  grantTypes?: string[];
}

/** Options of the registration functions. */
export interface RegistrationStoreOptions {
  /** The config directory. */
  dir: string;
  /** The app whose store this is (its keyring service and agent). */
  app?: App;
}

/** The lock, only for writes. */
const lock = () => import("./lock.ts");

/**
 * Where a registration's secret is kept in a store: `registration ISSUER`
 * as the host (a key is `ISSUER NAME`; an issuer URL has no space, so no
 * account's host is ever this) and `client NAME` as the account.
 */
function secretKey(key: string): [host: string, login: string] {
  const [issuer, login] = legacySecretKey(key);
  return [`registration ${issuer}`, login];
}

/**
 * Where an earlier release kept it: the issuer itself as the host, which an
 * account at that issuer named `client` shares. What is there is a
 * registration's secret only when it holds no access token (an account's always does).
 */
function legacySecretKey(key: string): [host: string, login: string] {
  const space = key.indexOf(" ");
  const [issuer, name] = space < 0 ? [key, ""] : [key.slice(0, space), key.slice(space + 1)];
  return [issuer, name ? `client ${name}` : "client"];
}

/** The secret an earlier release stored for `key` in `store`, if that is what is there. */
async function legacySecret(store: SecretStore, key: string): Promise<string | undefined> {
  const secrets = await store.get(...legacySecretKey(key));
  return secrets && secrets.accessToken === "" && typeof secrets.clientSecret === "string" &&
      secrets.clientSecret
    ? secrets.clientSecret
    : undefined;
}

/** Forgets the secret an earlier release stored for `key` in `store` (never an account's). */
async function forgetLegacySecret(store: SecretStore, key: string): Promise<void> {
  if (await legacySecret(store, key).catch(() => undefined)) {
    await store.delete(...legacySecretKey(key)).catch(() => false);
  }
}

/** Forgets `key`'s secret in `store`, where it is kept now and where an earlier release kept it. */
async function forgetSecret(store: SecretStore, key: string): Promise<void> {
  await store.delete(...secretKey(key)).catch(() => false);
  await forgetLegacySecret(store, key);
}

/** The grant types of a record, when it names them as a list of strings. */
function grantTypesOf(record: RegistrationRecord): { grantTypes?: string[] } {
  const grants = record.grantTypes;
  return Array.isArray(grants) && grants.every((g) => typeof g === "string")
    ? { grantTypes: grants }
    : {};
}

/**
 * The registration stored under `key`, its secret read from where it is
 * kept; `undefined` when there is none, its secret is gone or has expired
 * (RFC 7591 `client_secret_expires_at`), or the config cannot be read: the
 * login then registers again.
 *
 * @example
 * ```ts ignore
 * import { loadRegistration } from "./registrations.ts";
 * const found = await loadRegistration("https://auth.example.com loopauth", { dir: "/tmp/loopauth" });
 * console.log(found?.clientId);
 * ```
 */
export async function loadRegistration(
  key: string,
  options: RegistrationStoreOptions,
): Promise<StoredRegistration | undefined> {
  let record: RegistrationRecord;
  try {
    const registrations = readConfig(options.dir).registrations ?? {};
    if (!Object.hasOwn(registrations, key)) return undefined;
    record = registrations[key];
  } catch {
    return undefined; // an unreadable config: the login registers, and reports the directory
  }
  if (!record.storage) {
    return {
      clientId: record.clientId,
      redirectUri: record.redirectUri,
      authMethod: "none",
      ...grantTypesOf(record),
    };
  }
  if (typeof record.secretExpiresAt === "string" && isPast(record.secretExpiresAt)) {
    return undefined;
  }
  try {
    const store = openStore(record.storage, options);
    const secrets = await store.get(...secretKey(key));
    const secret = typeof secrets?.clientSecret === "string" && secrets.clientSecret
      ? secrets.clientSecret
      : await legacySecret(store, key);
    if (!secret) return undefined;
    return {
      clientId: record.clientId,
      redirectUri: record.redirectUri,
      clientSecret: secret,
      authMethod: record.authMethod ?? "client_secret_basic",
      ...(record.secretExpiresAt ? { secretExpiresAt: record.secretExpiresAt } : {}),
      ...grantTypesOf(record),
    };
  } catch {
    return undefined; // a store that does not answer: a new registration
  }
}

/**
 * Stores a registration under `key`, under the lock: a secret first, in
 * `store`, then the record that names where it is. Replacing one whose
 * secret was elsewhere removes that secret, and so is one an earlier
 * release kept under the issuer's host.
 *
 * @example
 * ```ts ignore
 * import { saveRegistration } from "./registrations.ts";
 * import { fileStore } from "./file.ts";
 * await saveRegistration("https://auth.example.com loopauth", {
 *   clientId: "c", redirectUri: "http://127.0.0.1:8123/callback", authMethod: "none",
 * }, fileStore({ dir: "/tmp/loopauth" }), { dir: "/tmp/loopauth" });
 * ```
 */
export async function saveRegistration(
  key: string,
  registration: StoredRegistration,
  store: SecretStore,
  options: RegistrationStoreOptions,
): Promise<void> {
  await (await lock()).withLock(options.dir, async () => {
    const secret = registration.clientSecret;
    if (secret) await store.set(...secretKey(key), { accessToken: "", clientSecret: secret });
    const config = readConfig(options.dir);
    const registrations = config.registrations ??= {};
    const previous = Object.hasOwn(registrations, key) ? registrations[key] : undefined;
    registrations[key] = {
      clientId: registration.clientId,
      redirectUri: registration.redirectUri,
      ...(registration.grantTypes ? { grantTypes: registration.grantTypes } : {}),
      ...(secret
        ? {
          authMethod: registration.authMethod,
          storage: store.name,
          ...(registration.secretExpiresAt
            ? { secretExpiresAt: registration.secretExpiresAt }
            : {}),
        }
        : {}),
    };
    await writeConfig(config, options.dir);
    if (previous?.storage && (!secret || previous.storage !== store.name)) {
      await forgetSecret(openStore(previous.storage, options), key);
    } else if (previous?.storage) {
      await forgetLegacySecret(store, key);
    }
  });
}

/** Options of {@linkcode removeRegistration}. */
export interface RemoveRegistrationOptions extends RegistrationStoreOptions {
  /**
   * Forget it only if it is still this client (the one a server refused):
   * one another process stored meanwhile is kept.
   */
  clientId?: string;
}

/**
 * Forgets the registration under `key` (a server that refused it, a
 * logout): its record, then its secret; true when there was one.
 *
 * @example
 * ```ts ignore
 * import { removeRegistration } from "./registrations.ts";
 * await removeRegistration("https://auth.example.com loopauth", { dir: "/tmp/loopauth" });
 * ```
 */
export async function removeRegistration(
  key: string,
  options: RemoveRegistrationOptions,
): Promise<boolean> {
  const { clientId } = options;
  return await forgetRecord("registrations", key, {
    dir: options.dir,
    ...(clientId === undefined ? {} : { only: (record) => record.clientId === clientId }),
    // A registration without a secret has none to forget; a store that fails keeps a stale one.
    forgetSecret: async ({ storage }) => {
      if (storage) await forgetSecret(openStore(storage, options), key);
    },
  });
}

/**
 * The keys of the registrations of `clientId` at the authorization server
 * `issuer` (what a logout of an account logged in as that client forgets).
 *
 * @example
 * ```ts ignore
 * import { registrationsOf } from "./registrations.ts";
 * registrationsOf("https://auth.example.com", "c", { dir: "/tmp/loopauth" });
 * ```
 */
export function registrationsOf(
  issuer: string,
  clientId: string,
  options: RegistrationStoreOptions,
): string[] {
  try {
    const registrations = readConfig(options.dir).registrations ?? {};
    return Object.entries(registrations)
      .filter(([key, record]) => key.startsWith(`${issuer} `) && record.clientId === clientId)
      .map(([key]) => key);
  } catch {
    return [];
  }
}
