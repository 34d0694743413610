/**
 * Before a login starts: can its result be stored? An unusable config
 * directory is an error before the browser opens, not after the user
 * consented and the server issued a token that would then be thrown away.
 * @module
 */
import { checkConfigDir } from "./dir_safety.ts";
import { ensureDir, storageError } from "./file.ts";
import { withLock } from "./lock.ts";
import { joinPath } from "./paths.ts";
import { PROBE_NAME } from "./recovery.ts";

/**
 * Creates the config directory (0700) when it is missing, checks it like
 * {@linkcode checkConfigDir}, and writes and removes a file in it under the
 * lock: a `storage` (or `permission`) error when any of that fails.
 *
 * @example
 * ```ts ignore
 * import { prepareConfigDir } from "./preflight.ts";
 * await prepareConfigDir("/tmp/loopauth");
 * ```
 */
export async function prepareConfigDir(dir: string): Promise<void> {
  checkConfigDir(dir);
  try {
    ensureDir(dir);
  } catch (error) {
    throw storageError(error, `Cannot write to ${dir}`);
  }
  await withLock(dir, () => {
    const probe = joinPath(dir, `${PROBE_NAME}.${crypto.randomUUID()}.tmp`);
    try {
      Deno.openSync(probe, { write: true, createNew: true, mode: 0o600 }).close();
      Deno.removeSync(probe);
    } catch (error) {
      throw storageError(error, `Cannot write to ${dir}`);
    }
  });
}
