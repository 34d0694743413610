/**
 * Whether the config directory can be trusted, ssh's rules for `~/.ssh`:
 * the directory, `config.json` and `tokens.json` (or `tokens.enc`) are
 * refused when another user owns them (root excepted) or may write to
 * them, and `tokens.json` / `tokens.enc`
 * also when other users may read it. loopauth then uses none of them (a
 * planted config or token would be used as the user's own; a readable
 * token is already exposed) and says which `chmod` fixes it. Every write
 * tightens what is looser: the directory to 0700, the files to 0600.
 *
 * The owner check needs `--allow-sys=uid` (in the documented flags); a
 * program that does not grant it gets the mode checks only. Not on Windows,
 * which has no POSIX modes.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { countStep } from "../core/step_counts.ts";
import { ownUid } from "../platform/uid.ts";
import { storageError } from "./file.ts";
import { joinPath, STORE_FILES } from "./paths.ts";

/**
 * Directories inside a {@linkcode checkedOnce} scope: how many scopes hold
 * each, and whether one of its checks has run.
 */
const scopes = new Map<string, { holders: number; checked: boolean }>();

/**
 * Refuses a config directory (or its `config.json` / `tokens.json`) that
 * another user owns or may write to, and a `tokens.json` other users may
 * read: a `storage` error naming the path and the fix. A directory that
 * does not exist yet passes (loopauth creates it 0700). Inside a
 * {@linkcode checkedOnce} scope (a login, the lock) only the first call
 * checks: the later ones rely on it.
 *
 * @example
 * ```ts ignore
 * import { checkConfigDir } from "./dir_safety.ts";
 * checkConfigDir("/tmp/loopauth");
 * ```
 */
export function checkConfigDir(dir: string): void {
  const scope = scopes.get(dir);
  if (scope?.checked) return;
  countStep("config_dir_checked");
  if (Deno.build.os === "windows") return;
  const uid = ownUid();
  const info = statOrUndefined(dir);
  if (info?.isDirectory) { // missing, or not a directory: reading it says so
    refuseIfUnsafe(dir, info, uid, { secret: false, fix: `chmod 700 ${dir}` });
    const present = namesIn(dir);
    for (const name of [STORE_FILES.config, STORE_FILES.secrets, STORE_FILES.encrypted]) {
      if (!present.has(name)) continue;
      const path = joinPath(dir, name);
      const file = statOrUndefined(path);
      const secret = name !== STORE_FILES.config;
      if (file) refuseIfUnsafe(path, file, uid, { secret, fix: `chmod 600 ${path}` });
    }
  }
  if (scope) scope.checked = true;
}

/**
 * Runs `fn` in a scope where `dir` is checked once: the first
 * {@linkcode checkConfigDir} in it checks, the later ones (a login's reads,
 * its preflight, the lock taken to store) do not. Once checked, no other
 * user can write to the directory, so only this user (or root) could make
 * it fail a later check; every write tightens modes anyway
 * ({@linkcode tightenModes}). Scopes nest (a login's lock inside its login).
 *
 * @example
 * ```ts ignore
 * import { checkConfigDir, checkedOnce } from "./dir_safety.ts";
 * await checkedOnce("/tmp/loopauth", () => {
 *   checkConfigDir("/tmp/loopauth"); // checks
 *   checkConfigDir("/tmp/loopauth"); // does not
 * });
 * ```
 */
export async function checkedOnce<T>(dir: string, fn: () => T | Promise<T>): Promise<T> {
  const scope = scopes.get(dir) ?? { holders: 0, checked: false };
  scope.holders++;
  scopes.set(dir, scope);
  try {
    return await fn();
  } finally {
    if (--scope.holders === 0) scopes.delete(dir);
  }
}

/**
 * Tightens the files loopauth keeps in `dir` that are looser than 0600 (and
 * the directory to 0700), when they are the user's own. Called on every
 * write (under the lock), so a write never leaves a file as loose as it
 * found it.
 *
 * @example
 * ```ts ignore
 * import { tightenModes } from "./dir_safety.ts";
 * tightenModes("/tmp/loopauth");
 * ```
 */
export function tightenModes(dir: string): void {
  if (Deno.build.os === "windows") return;
  const uid = ownUid();
  const present = namesIn(dir);
  const files = Object.values(STORE_FILES).filter((name) => present.has(name));
  for (const path of [dir, ...files.map((name) => joinPath(dir, name))]) {
    const info = statOrUndefined(path, { link: true });
    if (!info || info.isSymlink || info.mode === null) continue;
    if (uid !== undefined && info.uid !== uid) continue;
    const wanted = path === dir ? 0o700 : 0o600;
    if ((info.mode & 0o777 & ~wanted) === 0) continue;
    try {
      Deno.chmodSync(path, wanted);
    } catch (error) {
      throw storageError(error, `Cannot change the mode of ${path}`);
    }
  }
}

function refuseIfUnsafe(
  path: string,
  info: Deno.FileInfo,
  uid: number | undefined,
  { secret, fix }: { secret: boolean; fix: string },
): void {
  if (uid !== undefined && info.uid !== null && info.uid !== uid && info.uid !== 0) {
    throw new LoopauthError(
      "storage",
      `Refusing to use ${path}: it belongs to another user (uid ${info.uid}): ${
        info.isDirectory ? "use a config directory of your own" : "remove it and log in again"
      }`,
    );
  }
  const mode = (info.mode ?? 0) & 0o777;
  const shown = `mode 0${mode.toString(8)}`;
  if (mode & 0o022) {
    throw new LoopauthError(
      "storage",
      `Refusing to use ${path}: other users can write to it (${shown}): run ${fix}`,
    );
  }
  if (secret && mode & 0o044) {
    throw new LoopauthError(
      "storage",
      `Refusing to use ${path}: other users can read it (${shown}): run ${fix}, and loopauth logout if they may have read its tokens`,
    );
  }
}

/**
 * The names in a directory, lower-cased (none when it is missing): one call,
 * where a stat of a missing file is an exception. Lower-cased because on a
 * case-insensitive disk (macOS, Windows) `Tokens.json` is what opening
 * `tokens.json` reads: it is checked too.
 */
function namesIn(dir: string): Set<string> {
  try {
    return new Set(Array.from(Deno.readDirSync(dir), (entry) => entry.name.toLowerCase()));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return new Set();
    throw storageError(error, `Cannot read ${dir}`);
  }
}

/**
 * A path's file info (`link`: of a symbolic link itself), or `undefined`
 * when it does not exist; any other failure is a `storage` error naming it.
 *
 * @example
 * ```ts ignore
 * import { statOrUndefined } from "./dir_safety.ts";
 * const info = statOrUndefined("/tmp/loopauth/agent.sock", { link: true });
 * if (info?.isSocket) console.log("a socket");
 * ```
 */
export function statOrUndefined(
  path: string,
  options: { link?: boolean } = {},
): Deno.FileInfo | undefined {
  try {
    return options.link ? Deno.lstatSync(path) : Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw storageError(error, `Cannot read ${path}`);
  }
}
