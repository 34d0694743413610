/**
 * Two-step logins waiting in the background (`login --no-wait`): each
 * waiter writes `logins/ID.json` in the config directory, a 0600 file in a
 * 0700 directory of the user's own, naming its control port on 127.0.0.1
 * and the 256-bit key every request to it must carry. No secret of the
 * login itself (state, verifier, code, user code, token) is in it: those
 * stay in the waiter's memory.
 *
 * Why a loopback port and not a Unix socket like the agent's: Deno grants a
 * Unix socket by its exact path (`--allow-net=unix:PATH`), so a socket per
 * login could not be in the documented flags, while 127.0.0.1 already is.
 * What keeps other users out is the key (in a file only the user can read)
 * and, on Linux, the owner of the connecting socket (see
 * `platform/socket_owner.ts`), as for the callback server.
 * @module
 */
import { LoopauthError } from "../core/errors.ts";
import { ownUid } from "../platform/uid.ts";
import { joinPath } from "./paths.ts";

/** What a waiter's state file holds. */
export interface PendingLogin {
  /** The login's id (16 hex digits). */
  id: string;
  /** The waiter's process id. */
  pid: number;
  /** Its control port on 127.0.0.1. */
  port: number;
  /** The key every request must carry (64 hex digits). */
  key: string;
  /** ISO time the waiter gives up (the login's timeout). */
  expiresAt: string;
}

/**
 * Whether `id` is a two-step login's id: 16 lower-case hex digits (so it is
 * never a path).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoginId } from "./pending_logins.ts";
 * assert.ok(isLoginId("0123456789abcdef"));
 * assert.ok(!isLoginId("../tokens.json"));
 * ```
 */
export function isLoginId(id: string): boolean {
  return /^[0-9a-f]{16}$/.test(id);
}

/**
 * A new login id: 64 random bits as hex.
 *
 * @example
 * ```ts
 * import { newLoginId } from "./pending_logins.ts";
 * newLoginId(); // e.g. "3f9c0a1b2c3d4e5f"
 * ```
 */
export function newLoginId(): string {
  return hex(8);
}

/**
 * A new key for a waiter's control port: 256 random bits as hex.
 *
 * @example
 * ```ts
 * import { newWaiterKey } from "./pending_logins.ts";
 * newWaiterKey().length; // 64
 * ```
 */
export function newWaiterKey(): string {
  return hex(32);
}

function hex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/**
 * The directory of the waiters' state files in a config directory.
 *
 * @example
 * ```ts
 * import { pendingLoginsDir } from "./pending_logins.ts";
 * pendingLoginsDir("/home/me/.config/loopauth"); // "/home/me/.config/loopauth/logins"
 * ```
 */
export function pendingLoginsDir(configDir: string): string {
  return joinPath(configDir, "logins");
}

/**
 * The state file of login `id`.
 *
 * @example
 * ```ts
 * import { pendingLoginPath } from "./pending_logins.ts";
 * pendingLoginPath("/home/me/.config/loopauth", "0123456789abcdef");
 * // "/home/me/.config/loopauth/logins/0123456789abcdef.json"
 * ```
 */
export function pendingLoginPath(configDir: string, id: string): string {
  return joinPath(pendingLoginsDir(configDir), `${id}.json`);
}

/**
 * Writes a waiter's state file (0600, atomically) in a 0700 directory of the
 * user's own, made when missing and refused when it is not that.
 *
 * @example
 * ```ts ignore
 * import { writePendingLogin } from "./pending_logins.ts";
 * await writePendingLogin("/tmp/loopauth", {
 *   id: "0123456789abcdef", pid: Deno.pid, port: 40000, key: "0".repeat(64),
 *   expiresAt: new Date(Date.now() + 300_000).toISOString(),
 * });
 * ```
 */
export async function writePendingLogin(configDir: string, login: PendingLogin): Promise<string> {
  const dir = pendingLoginsDir(configDir);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  checkPrivate(dir, Deno.lstatSync(dir), { directory: true });
  const path = pendingLoginPath(configDir, login.id);
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temp, `${JSON.stringify(login)}\n`, { createNew: true, mode: 0o600 });
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw new LoopauthError("storage", `Cannot write ${path}: ${error}`, { cause: error });
  }
  return path;
}

/**
 * Reads login `id`'s state file after checking that it and its directory
 * are the user's own and closed to others; `undefined` when there is none
 * (the login ended, or it is another user's or config directory's).
 *
 * @example
 * ```ts ignore
 * import { readPendingLogin } from "./pending_logins.ts";
 * const pending = await readPendingLogin("/tmp/loopauth", "0123456789abcdef");
 * console.log(pending?.port);
 * ```
 */
/**
 * Throws a `usage` error (the id shown safely) unless `id` is a login id.
 *
 * @example
 * ```ts
 * import { checkLoginId } from "./pending_logins.ts";
 * checkLoginId("0123456789abcdef");
 * ```
 */
export function checkLoginId(id: string): void {
  if (!isLoginId(id)) {
    throw new LoopauthError(
      "usage",
      `Invalid login ID "${
        id.slice(0, 40).replace(/[^\x21-\x7e]/g, "?")
      }": give the id loopauth login --no-wait printed`,
    );
  }
}

export async function readPendingLogin(
  configDir: string,
  id: string,
): Promise<PendingLogin | undefined> {
  checkLoginId(id);
  const dir = pendingLoginsDir(configDir);
  const path = pendingLoginPath(configDir, id);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
  checkPrivate(dir, await Deno.lstat(dir), { directory: true });
  checkPrivate(path, info, { directory: false });
  try {
    const data = JSON.parse(await Deno.readTextFile(path));
    if (
      data?.id === id && Number.isInteger(data.pid) && Number.isInteger(data.port) &&
      data.port > 0 && data.port < 65536 && typeof data.key === "string" &&
      /^[0-9a-f]{64}$/.test(data.key) && typeof data.expiresAt === "string"
    ) {
      const { pid, port, key, expiresAt } = data;
      return { id, pid, port, key, expiresAt };
    }
  } catch { /* below */ }
  throw new LoopauthError("storage", `Refusing to use ${path}: it is not a login's state file`);
}

/**
 * Removes login `id`'s state file when it still holds `key` (a new waiter
 * may not have the same id, but a file is only ever removed by its own).
 *
 * @example
 * ```ts
 * import { removePendingLogin } from "./pending_logins.ts";
 * await removePendingLogin("/tmp/loopauth", "0123456789abcdef", "0".repeat(64));
 * ```
 */
export async function removePendingLogin(
  configDir: string,
  id: string,
  key: string,
): Promise<void> {
  const path = pendingLoginPath(configDir, id);
  const text = await Deno.readTextFile(path).catch(() => "");
  try {
    if (JSON.parse(text)?.key !== key) return;
  } catch {
    return;
  }
  await Deno.remove(path).catch(() => {});
}

/** Refuses a path that is another user's, or that others may enter, read or write. */
function checkPrivate(path: string, info: Deno.FileInfo, options: { directory: boolean }): void {
  if (Deno.build.os === "windows") return;
  const uid = ownUid();
  const want = options.directory
    ? "a directory of yours with mode 0700"
    : "a file of yours with mode 0600";
  const kind = options.directory ? info.isDirectory : info.isFile;
  if (!kind || (uid !== undefined && info.uid !== null && info.uid !== uid)) {
    throw new LoopauthError("storage", `Refusing to use ${path}: it is not ${want}`);
  }
  const mode = (info.mode ?? 0) & 0o777;
  if (mode & 0o077) {
    throw new LoopauthError(
      "storage",
      `Refusing to use ${path}: other users may use it (mode 0${mode.toString(8)}): run chmod ${
        options.directory ? 700 : 600
      } ${path}`,
    );
  }
}
