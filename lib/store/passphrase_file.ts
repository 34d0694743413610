/**
 * The encrypted store's passphrase from `LOOPAUTH_PASSPHRASE_FILE`: the
 * file's first line (a trailing CR stripped), as `gpg --passphrase-file`,
 * `openssl -pass file:` and `sshpass -f` read it. The file must keep the
 * passphrase away from what `tokens.enc` is copied with: it is refused when
 * it lies inside the config directory (symbolic links followed), when other
 * users may read or change it, and when another user owns it (root
 * excepted), each with one `storage` line saying why and what to do.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { ownUid } from "../platform/uid.ts";
import { storageError } from "./file.ts";

/** The longest first line taken as a passphrase, in bytes (more is refused, not cut). */
export const MAX_PASSPHRASE_BYTES = 4096;

/** Options of {@linkcode readPassphraseFile}. */
export interface ReadPassphraseFileOptions {
  /** The config directory, where the file may not be. */
  dir: string;
}

/**
 * Reads the passphrase from `file`, refusing a file inside `options.dir` or
 * one other users may read or change. A file Deno may not read is Deno's
 * `NotCapable` error (the CLI names the `--allow-read` to add).
 *
 * @example
 * ```ts ignore
 * import { readPassphraseFile } from "./passphrase_file.ts";
 * const passphrase = await readPassphraseFile("/run/user/1000/loopauth/passphrase", {
 *   dir: "/home/me/.config/loopauth",
 * });
 * ```
 */
export async function readPassphraseFile(
  file: string,
  options: ReadPassphraseFileOptions,
): Promise<string> {
  const refuse = (why: string) =>
    new LoopauthError("storage", `Refusing to use LOOPAUTH_PASSPHRASE_FILE ${file}: ${why}`);
  if (isInside(file, options.dir)) throw refuse(insideWhy(options.dir));
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(file, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw storageError(error, `Cannot read LOOPAUTH_PASSPHRASE_FILE ${file}`);
  }
  try {
    // The opened file itself (a link swapped after the check does not count).
    if (isInside(realPath(file) ?? file, options.dir)) throw refuse(insideWhy(options.dir));
    checkPrivate(await handle.stat(), refuse, file);
    const line = await firstLine(handle);
    if (line === undefined) {
      throw refuse(`its first line is longer than ${MAX_PASSPHRASE_BYTES} bytes`);
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(line);
    } catch {
      throw refuse("its first line is not UTF-8 text");
    }
    text = text.replace(/\r$/, "");
    if (text === "") {
      throw new LoopauthError(
        "storage",
        `LOOPAUTH_PASSPHRASE_FILE ${file} is empty: its first line is the passphrase`,
      );
    }
    return text;
  } catch (error) {
    if (error instanceof LoopauthError) throw error;
    throw storageError(error, `Cannot read LOOPAUTH_PASSPHRASE_FILE ${file}`);
  } finally {
    handle.close();
  }
}

function insideWhy(dir: string): string {
  return `it is inside the config directory ${dir}, so a copy of that directory would decrypt tokens.enc: keep it outside ${dir}, readable only by you (mode 0600)`;
}

/**
 * Refuses a file another user owns (root excepted), one with more than one
 * name, or one that others may read or write: `refuse` makes the error from
 * the reason. Also for `login --client-secret-file`.
 *
 * @example
 * ```ts ignore
 * import { checkPrivate } from "./passphrase_file.ts";
 * import { LoopauthError } from "../core/errors.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.chmod(file, 0o600);
 * checkPrivate(await Deno.stat(file), (why) => new LoopauthError("usage", why), file);
 * ```
 */
export function checkPrivate(
  info: Deno.FileInfo,
  refuse: (why: string) => LoopauthError,
  file: string,
): void {
  if (Deno.build.os === "windows" || info.mode === null) return; // no POSIX modes
  const uid = ownUid();
  if (uid !== undefined && info.uid !== null && info.uid !== uid && info.uid !== 0) {
    throw refuse(
      `it belongs to another user (uid ${info.uid}): keep a copy of your own, mode 0600`,
    );
  }
  // A second name of the file may lie inside the config directory (a hard link cannot be traced).
  if (info.isFile && (info.nlink ?? 1) > 1) {
    throw refuse(
      `it has ${info.nlink} names (hard links), one of which may be in a copy of the config directory: keep a file of its own, mode 0600`,
    );
  }
  const mode = info.mode & 0o777;
  const shown = `mode 0${mode.toString(8)}`;
  if (mode & 0o044) throw refuse(`other users can read it (${shown}): run chmod 600 ${file}`);
  if (mode & 0o022) throw refuse(`other users can change it (${shown}): run chmod 600 ${file}`);
}

/**
 * The bytes before the first newline, reading no further than needed (the
 * file may be a pipe, `<(pass show loopauth)`, or stdin); `undefined` when
 * that line is longer than {@linkcode MAX_PASSPHRASE_BYTES}.
 *
 * @example
 * ```ts
 * import { firstLine } from "./passphrase_file.ts";
 * const line = await firstLine(Deno.stdin);
 * ```
 */
export async function firstLine(
  handle: { read(buffer: Uint8Array): Promise<number | null> },
): Promise<Uint8Array | undefined> {
  const buffer = new Uint8Array(MAX_PASSPHRASE_BYTES + 1);
  let length = 0;
  while (length < buffer.length) {
    const n = await handle.read(buffer.subarray(length));
    if (n === null) break;
    const end = buffer.subarray(length, length + n).indexOf(10);
    if (end !== -1) return buffer.slice(0, length + end);
    length += n;
  }
  return length > MAX_PASSPHRASE_BYTES ? undefined : buffer.slice(0, length);
}

/** Whether `path` is `dir` or lies under it, as written and with symbolic links resolved. */
function isInside(path: string, dir: string): boolean {
  const dirs = [dir, realPath(dir)].filter((d) => d !== undefined);
  return dirs.some((d) => {
    const [p, base] = [comparable(path), comparable(d).replace(/\/+$/, "")];
    return p === base || p.startsWith(`${base}/`);
  });
}

/** A path with `/` separators, `.` and `..` resolved lexically, lower-cased where file names are. */
function comparable(path: string): string {
  const parts: string[] = [];
  for (const part of path.replaceAll("\\", "/").split("/")) {
    if (part === "." || (part === "" && parts.length > 0)) continue;
    const last = parts.at(-1);
    if (part === ".." && last === "") continue; // "/.." is "/"
    if (part === ".." && last !== undefined && last !== "..") parts.pop();
    else parts.push(part);
  }
  const joined = parts.join("/");
  // macOS and Windows disks are case-insensitive by default: Tokens.enc is tokens.enc there.
  return Deno.build.os === "darwin" || Deno.build.os === "windows" ? joined.toLowerCase() : joined;
}

/** The path with symbolic links resolved; `undefined` when it has none to resolve (a pipe) or is missing. */
function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    return undefined;
  }
}
