/**
 * What a writer killed between writing a temp file and renaming it leaves
 * behind, settled by the next process that takes the config directory's
 * lock (every writer of these files holds it, so under the lock no temp file
 * is still being written). A complete temp file of the secrets file that is
 * newer than the file it was to replace is renamed over it: after a killed
 * refresh it holds the only refresh token the server still accepts; the
 * same for `tokens.enc` (whole: its JSON envelope parses). Every other temp
 * file of a locked file is removed.
 * @module
 */
import { configPath } from "./config.ts";
import { encryptedFilePath, isEncryptedFile } from "./envelope.ts";
import { isSecretsFile, secretsFilePath, storageError } from "./file.ts";
import { joinPath } from "./paths.ts";

/** `NAME.<uuid>.tmp`, as {@linkcode writeFileAtomic} names its temp files. */
const TEMP = /^(.+)\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** Name of the file the directory check writes and removes (a leftover is removed under the lock). */
export const PROBE_NAME = ".write-test";

/**
 * Recovers a complete temp file of `tokens.json` newer than it and removes
 * the other temp files of `tokens.json`, `config.json` and the write test.
 * Call it only while holding the directory's lock.
 *
 * @example
 * ```ts ignore
 * import { settleInterruptedWrites } from "./recovery.ts";
 * import { withLock } from "./lock.ts";
 * await withLock("/tmp/loopauth", () => settleInterruptedWrites("/tmp/loopauth"));
 * ```
 */
export async function settleInterruptedWrites(dir: string): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = Array.from(Deno.readDirSync(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw storageError(error, `Cannot read ${dir}`);
  }
  // One listing serves both: their temp files have different names.
  await settle(dir, entries, secretsFilePath({ dir }), isSecretsFile);
  await settle(dir, entries, encryptedFilePath({ dir }), isEncryptedFile, { others: false });
}

/**
 * Recovers the newest complete temp file of `secrets`; removes the other
 * temp files of it and (unless `others` is false) of `config.json` and the
 * write test.
 */
async function settle(
  dir: string,
  entries: readonly Deno.DirEntry[],
  secrets: string,
  isComplete: (data: unknown) => boolean,
  { others = true }: { others?: boolean } = {},
): Promise<void> {
  const names = new Set(
    others ? [baseName(secrets), baseName(configPath(dir)), PROBE_NAME] : [baseName(secrets)],
  );
  const complete: { path: string; mtime: number }[] = [];
  const stale: string[] = [];
  for (const entry of entries) {
    const target = TEMP.exec(entry.name)?.[1];
    if (target === undefined || !names.has(target)) continue;
    const path = joinPath(dir, entry.name);
    const mtime = target === baseName(secrets) && entry.isFile
      ? completeSecrets(path, isComplete)
      : undefined;
    if (mtime === undefined) stale.push(path);
    else complete.push({ path, mtime });
  }
  complete.sort((a, b) => b.mtime - a.mtime);
  const [newest, ...older] = complete;
  stale.push(...older.map((c) => c.path));
  if (newest && newest.mtime >= modified(secrets)) {
    try {
      // Synced again: a temp file that a crash caught before its fsync is made durable here.
      using file = Deno.openSync(newest.path, { read: true, write: true });
      await file.sync();
      Deno.renameSync(newest.path, secrets);
    } catch (error) {
      throw storageError(error, `Cannot recover ${secrets} from ${newest.path}`);
    }
  } else if (newest) stale.push(newest.path);
  for (const path of stale) {
    try {
      Deno.removeSync(path);
    } catch { /* gone */ }
  }
}

/** The temp file's mtime when it holds a whole, valid secrets file; else `undefined`. */
function completeSecrets(
  path: string,
  isComplete: (data: unknown) => boolean,
): number | undefined {
  try {
    const info = Deno.lstatSync(path);
    if (!info.isFile) return undefined;
    const data = JSON.parse(Deno.readTextFileSync(path));
    return isComplete(data) ? info.mtime?.getTime() ?? 0 : undefined;
  } catch {
    return undefined; // cut short by the kill, or gone: not complete
  }
}

/** A file's mtime, `-Infinity` when it does not exist. */
function modified(path: string): number {
  try {
    return Deno.lstatSync(path).mtime?.getTime() ?? 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return -Infinity;
    throw storageError(error, `Cannot read ${path}`);
  }
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}
