/**
 * A cross-process lock on the config directory, so that two loopauth
 * processes never spend the same refresh token or lose each other's writes.
 * It is an OS file lock (`flock`/`LockFileEx`) on `DIR/lock`: the OS drops it
 * when its process dies, so there is no stale lock to clean up; what a killed
 * writer left half done is settled by the next holder (./recovery.ts). A lock that
 * is a symbolic link (or anything but a plain file) is refused, never
 * followed: following it would create or open its target.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { countStep } from "../core/step_counts.ts";
import { formatDuration } from "../core/duration.ts";
import { checkConfigDir, checkedOnce, tightenModes } from "./dir_safety.ts";
import { ensureDir, storageError } from "./file.ts";
import { joinPath, STORE_FILES } from "./paths.ts";
import { settleInterruptedWrites } from "./recovery.ts";
import { sleep } from "../core/timers.ts";

/** How long to wait for another process's lock (longer than one request). */
export const LOCK_TIMEOUT_MS = 40_000;

/** Options of {@linkcode withLock}. */
export interface LockOptions {
  /** Aborting stops the wait for the lock at once (with the signal's reason). */
  signal?: AbortSignal;
}

const held = new Set<string>();

/**
 * Runs `fn` while holding the lock of `dir`; re-entrant within one process.
 * Another process's lock is waited for up to {@linkcode LOCK_TIMEOUT_MS}
 * (a `storage` error then), or until `signal` aborts.
 *
 * @example
 * ```ts ignore
 * import { withLock } from "./lock.ts";
 * await withLock("/tmp/loopauth", async () => {
 *   // read, change and write the config here
 * });
 * ```
 */
export async function withLock<T>(
  dir: string,
  fn: () => T | Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const path = joinPath(dir, STORE_FILES.lock);
  if (held.has(path)) return await fn();
  // Checked once, on taking it: reads under the lock rely on that check.
  return await checkedOnce(dir, async () => {
    checkConfigDir(dir); // before ensureDir tightens a loose directory without a word
    const file = openLock(dir, path);
    try {
      const deadline = Date.now() + LOCK_TIMEOUT_MS;
      while (!file.tryLockSync(true)) {
        if (Date.now() > deadline) {
          throw new LoopauthError(
            "storage",
            `Another loopauth process held ${path} for over ${
              formatDuration(LOCK_TIMEOUT_MS)
            }: try again when it has finished`,
          );
        }
        // Polled: Deno's blocking lockSync could not be interrupted by Ctrl-C.
        await sleep(15, { signal: options.signal });
      }
      countStep("config_lock");
      held.add(path);
      try {
        tightenModes(dir);
        await settleInterruptedWrites(dir);
        return await fn();
      } finally {
        held.delete(path);
        try {
          file.unlockSync();
        } catch { /* closing the file below unlocks it too */ }
      }
    } finally {
      file.close();
    }
  });
}

/**
 * Runs `fn` while holding the login lock of `host` in `dir`: a second login
 * to the same host from the same config directory is refused at once, with one
 * line, rather than both finishing and the last silently replacing the first.
 * The lock is the OS's, dropped when its process dies; its file
 * (`login-HASH.lock`, one per host, empty) stays for the next login.
 *
 * @example
 * ```ts ignore
 * import { withLoginLock } from "./lock.ts";
 * await withLoginLock("/tmp/loopauth", "github.com", async () => {
 *   // run the flows and store the account here
 * });
 * ```
 */
export async function withLoginLock<T>(
  dir: string,
  host: string,
  fn: () => Promise<T>,
): Promise<T> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(host));
  const hex = [...new Uint8Array(digest).slice(0, 8)]
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
  const path = joinPath(dir, `login-${hex}.lock`);
  const file = openLock(dir, path);
  try {
    if (!file.tryLockSync(true)) {
      throw new LoopauthError(
        "storage",
        `Another login to ${host} is under way: finish or cancel it (Ctrl-C where it runs), then log in again`,
      );
    }
    countStep("login_lock");
    try {
      return await fn();
    } finally {
      try {
        file.unlockSync();
      } catch { /* closing the file below unlocks it too */ }
    }
  } finally {
    file.close();
  }
}

/**
 * Refuses, without taking it, a lock file of `dir` that {@linkcode withLock}
 * would refuse (a symbolic link, a directory: anything but a plain file),
 * so that a login says so before the browser opens. A missing one passes.
 *
 * @example
 * ```ts ignore
 * import { checkLockFile } from "./lock.ts";
 * checkLockFile("/tmp/loopauth");
 * ```
 */
export function checkLockFile(dir: string): void {
  const path = joinPath(dir, STORE_FILES.lock);
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw storageError(error, `Cannot open ${path}`);
  }
  if (!info.isFile) throw notAPlainFile(path, info);
}

/**
 * Opens the lock file without following a symbolic link. Deno.open has no
 * O_NOFOLLOW: a new lock is created with O_EXCL (which fails on any existing
 * name, a dangling link included), and an existing one is lstat-ed first and
 * must be the very file that was opened (same device and inode).
 */
function openLockFile(path: string): Deno.FsFile {
  for (let attempt = 0;; attempt++) {
    let before: Deno.FileInfo | undefined;
    try {
      before = Deno.lstatSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (before === undefined) {
      try {
        return Deno.openSync(path, { read: true, write: true, createNew: true, mode: 0o600 });
      } catch (error) {
        // Another process created it meanwhile: look again.
        if (error instanceof Deno.errors.AlreadyExists && attempt < 3) continue;
        throw error;
      }
    }
    if (!before.isFile) throw notAPlainFile(path, before);
    const file = Deno.openSync(path, { read: true, write: true });
    const opened = file.statSync();
    if (opened.ino === before.ino && opened.dev === before.dev) return file;
    file.close();
    if (attempt >= 3) throw notAPlainFile(path, opened);
  }
}

function notAPlainFile(path: string, info: Deno.FileInfo): LoopauthError {
  const what = info.isSymlink ? "a symbolic link" : info.isDirectory ? "a directory" : "not a file";
  return new LoopauthError(
    "storage",
    `Refusing to use ${path}: it is ${what}, not the lock file loopauth creates (remove it)`,
  );
}

/** Opens (creating) the lock file `path` in `dir`; a failure is a `storage` error naming it. */
function openLock(dir: string, path: string): Deno.FsFile {
  try {
    ensureDir(dir);
    return openLockFile(path);
  } catch (error) {
    throw storageError(error, `Cannot open ${path}`);
  }
}
