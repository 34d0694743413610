/**
 * Before a login starts: can its result be stored? An unusable config
 * directory is an error before the browser opens, not after the user
 * consented and the server issued a token that would then be thrown away.
 * @module
 */
import { checkLockFile } from "./lock.ts";
import { checkConfigDir, checkedOnce } from "./dir_safety.ts";
import { ensureDir, storageError } from "./file.ts";
import { joinPath } from "./paths.ts";
import { PROBE_NAME } from "./recovery.ts";

/**
 * Creates the config directory (0700) when it is missing, checks it like
 * {@linkcode checkConfigDir}, writes and removes a file in it, and checks
 * its lock file ({@linkcode checkLockFile}): a `storage` (or `permission`)
 * error when any of that fails. It takes no lock: the probe's name is its
 * own, and the login takes the lock once, to store the account.
 *
 * @example
 * ```ts ignore
 * import { prepareConfigDir } from "./preflight.ts";
 * prepareConfigDir("/tmp/loopauth");
 * ```
 */
export function prepareConfigDir(dir: string): void {
  checkConfigDir(dir);
  try {
    ensureDir(dir);
  } catch (error) {
    throw storageError(error, `Cannot write to ${dir}`);
  }
  const probe = joinPath(dir, `${PROBE_NAME}.${crypto.randomUUID()}.tmp`);
  try {
    Deno.openSync(probe, { write: true, createNew: true, mode: 0o600 }).close();
  } catch (error) {
    throw storageError(error, `Cannot write to ${dir}`);
  }
  try {
    Deno.removeSync(probe);
  } catch (error) {
    // Taken without the lock: another process's recovery (under the lock) may have
    // removed it as a leftover already. The write succeeded, which is what is probed.
    if (!(error instanceof Deno.errors.NotFound)) {
      throw storageError(error, `Cannot write to ${dir}`);
    }
  }
  // The lock the login takes to store the account, checked now (not taken: it is taken once).
  checkLockFile(dir);
}

/**
 * Runs `fn` once the config directory is prepared
 * ({@linkcode prepareConfigDir}), in a scope where it is checked only that
 * once (see `checkedOnce` in ./dir_safety.ts): the reads and the lock of a
 * login inside `fn` do not check it again.
 *
 * @example
 * ```ts ignore
 * import { withPreparedConfigDir } from "./preflight.ts";
 * await withPreparedConfigDir("/tmp/loopauth", async () => {
 *   // choose the store, log in, save the account
 * });
 * ```
 */
export async function withPreparedConfigDir<T>(
  dir: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  return await checkedOnce(dir, () => {
    prepareConfigDir(dir);
    return fn();
  });
}
