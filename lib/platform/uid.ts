/**
 * This process's user id, for the checks that a directory or file is the
 * user's own.
 * @module
 */

/**
 * This process's uid, when Deno may tell (`--allow-sys=uid`) and the OS has
 * one; otherwise `undefined` (the owner checks are then skipped).
 *
 * @example
 * ```ts
 * import { ownUid } from "./uid.ts";
 * console.log(ownUid()); // e.g. 1000
 * ```
 */
export function ownUid(): number | undefined {
  if (Deno.permissions.querySync({ name: "sys", kind: "uid" }).state !== "granted") {
    return undefined;
  }
  return Deno.uid() ?? undefined;
}
