/**
 * What a secrets backend is: the secret part of an account and the place
 * that keeps it (the keyring or the file backend).
 * @module
 */

/** The secret part of an account: never written to the config file. */
export interface Secrets {
  /** The access token. */
  accessToken: string;
  /** Refresh token of expiring tokens. */
  refreshToken?: string;
  /** ISO time the access token expires (kept with the pair so they change together). */
  expiresAt?: string;
  /** ISO time the refresh token expires. */
  refreshTokenExpiresAt?: string;
  /** The app's client secret, when the login used one (needed to refresh and revoke). */
  clientSecret?: string;
}

/** The name of a secrets backend. */
export type StorageName = "keyring" | "file";

/** A place that keeps {@linkcode Secrets} per host and login. */
export interface SecretBackend {
  /** `keyring` or `file`. */
  readonly name: StorageName;
  /** Where, for messages: the keyring's name or the file's path. */
  readonly location: string;
  /** The secrets of an account, or `undefined`. */
  get(host: string, login: string): Promise<Secrets | undefined>;
  /** Stores (replaces) the secrets of an account. */
  set(host: string, login: string, secrets: Secrets): Promise<void>;
  /** Removes the secrets of an account; true when there were some. */
  delete(host: string, login: string): Promise<boolean>;
}
