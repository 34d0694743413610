/**
 * Where secrets live: the OS keyring when one works, else a plain-text file
 * (with a warning). `--storage` / `LOOPAUTH_STORAGE` force one.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { fileBackend } from "./file.ts";
import { keyringBackend, probeKeyring } from "./keyring.ts";
import type { SecretBackend, StorageName } from "./secrets.ts";

/** Options of {@linkcode chooseBackend} and {@linkcode openBackend}. */
export interface BackendOptions {
  /** The config directory (for the file backend). */
  dir: string;
  /** Milliseconds a keyring call may take (default 10 s or `LOOPAUTH_KEYRING_TIMEOUT`). */
  keyringTimeout?: number;
}

/** The backend {@linkcode chooseBackend} picked. */
export interface ChosenBackend {
  /** The backend. */
  backend: SecretBackend;
  /** Why the keyring was not used, when the file was picked automatically. */
  fallbackReason?: string;
}

/**
 * Reads a `--storage` / `LOOPAUTH_STORAGE` value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStorage } from "./backend.ts";
 * assert.equal(parseStorage("keyring"), "keyring");
 * ```
 */
export function parseStorage(value: string | undefined): StorageName | undefined {
  if (value === undefined || value === "") return undefined;
  if (value === "keyring" || value === "file") return value;
  throw new LoopauthError("usage", `Invalid storage "${value}": use keyring or file`);
}

/**
 * The backend of a stored account.
 *
 * @example
 * ```ts
 * import { openBackend } from "./backend.ts";
 * const secrets = await openBackend("file", { dir: "/tmp/loopauth" }).get("github.com", "octocat");
 * ```
 */
export function openBackend(name: StorageName, options: BackendOptions): SecretBackend {
  return name === "keyring"
    ? keyringBackend({ timeout: options.keyringTimeout })
    : fileBackend({ dir: options.dir });
}

/**
 * Picks the backend for a new login: the forced one, else the keyring when it
 * answers, else the file (with the reason, for the warning). Forcing
 * `keyring` where none works is a `storage` error.
 *
 * @example
 * ```ts
 * import { chooseBackend } from "./backend.ts";
 * const { backend, fallbackReason } = await chooseBackend(undefined, { dir: "/tmp/loopauth" });
 * ```
 */
export async function chooseBackend(
  preference: StorageName | undefined,
  options: BackendOptions,
): Promise<ChosenBackend> {
  if (preference === "file") return { backend: openBackend("file", options) };
  const probe = await probeKeyring({ timeout: options.keyringTimeout });
  if (probe.ok) return { backend: openBackend("keyring", options) };
  if (preference === "keyring") {
    throw new LoopauthError(
      "storage",
      `No OS keyring is available (${probe.reason}): use --storage file to store the token in a file`,
    );
  }
  return { backend: openBackend("file", options), fallbackReason: probe.reason };
}
