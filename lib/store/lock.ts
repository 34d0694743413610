/**
 * A cross-process lock on the config directory, so that two loopauth
 * processes never spend the same refresh token or lose each other's writes.
 * It is an OS file lock (`flock`/`LockFileEx`) on `DIR/lock`: the OS drops it
 * when its process dies, so there is no stale lock to clean up.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { formatDuration } from "../core/duration.ts";
import { ensureDir, storageError } from "./file.ts";
import { joinPath } from "./paths.ts";
import { sleep } from "../core/timers.ts";

/** Default time to wait for another process's lock (longer than one request). */
export const LOCK_TIMEOUT_MS = 40_000;

const held = new Set<string>();

/**
 * Runs `fn` while holding the lock of `dir`; re-entrant within one process.
 *
 * @example
 * ```ts
 * import { withLock } from "./lock.ts";
 * await withLock("/tmp/loopauth", async () => {
 *   // read, change and write the config here
 * });
 * ```
 */
export async function withLock<T>(
  dir: string,
  fn: () => Promise<T>,
  options: { timeout?: number } = {},
): Promise<T> {
  const path = joinPath(dir, "lock");
  if (held.has(path)) return await fn();
  let file: Deno.FsFile;
  try {
    await ensureDir(dir);
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (error) {
    throw storageError(error, `Cannot open ${path}`);
  }
  try {
    const timeout = options.timeout ?? LOCK_TIMEOUT_MS;
    const deadline = Date.now() + timeout;
    while (!await file.tryLock(true)) {
      if (Date.now() > deadline) {
        throw new LoopauthError(
          "storage",
          `Another loopauth process held ${path} for over ${
            formatDuration(timeout)
          }: try again when it has finished`,
        );
      }
      await sleep(15);
    }
    held.add(path);
    try {
      return await fn();
    } finally {
      held.delete(path);
      await file.unlock().catch(() => {});
    }
  } finally {
    file.close();
  }
}
