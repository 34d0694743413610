/**
 * What a secret store is: the secret part of an account and the place
 * that keeps it (the keyring, the file, the agent or the encrypted file).
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

/**
 * The name of a secret store: the OS keyring, the plain-text file, the
 * loopauth agent's memory, the passphrase-encrypted file, or the store an
 * app passed in (`memory`: its tests'; never a `--storage` value).
 */
export type StorageName = "keyring" | "file" | "agent" | "encrypted" | "memory";

/** Every {@linkcode StorageName}, in the order `--storage` lists them. */
export const STORAGE_NAMES: readonly StorageName[] = ["keyring", "file", "agent", "encrypted"];

/** A place that keeps {@linkcode Secrets} per host and login. */
export interface SecretStore {
  /** `keyring`, `file`, `agent` or `encrypted`. */
  readonly name: StorageName;
  /** Where, for messages: the keyring's name, the file's path or the agent's socket. */
  readonly location: string;
  /** The secrets of an account, or `undefined`. */
  get(host: string, login: string): Promise<Secrets | undefined>;
  /** Stores (replaces) the secrets of an account. */
  set(host: string, login: string, secrets: Secrets): Promise<void>;
  /** Removes the secrets of an account; true when there were some. */
  delete(host: string, login: string): Promise<boolean>;
}

/**
 * The OS keyring of `os` as messages name it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyringLocation } from "./secrets.ts";
 * assert.equal(keyringLocation("darwin"), "the macOS Keychain");
 * ```
 */
export function keyringLocation(os: string = Deno.build.os): string {
  if (os === "darwin") return "the macOS Keychain";
  if (os === "windows") return "the Windows Credential Manager";
  return "the Secret Service keyring";
}

/**
 * The loopauth agent at `socket` as messages name it.
 *
 * @example
 * ```ts
 * import { agentLocation } from "./secrets.ts";
 * agentLocation("/run/user/1000/loopauth/agent.sock");
 * ```
 */
export function agentLocation(socket: string): string {
  return `the agent at ${socket}`;
}
