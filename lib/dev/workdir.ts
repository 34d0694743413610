/**
 * The built-in provider's own temporary directory (TLS files, the demo git
 * repository): made on first use, removed when the provider stops.
 * @module
 */

/** A directory made on first use; see {@linkcode workdir}. */
export interface Workdir {
  /** The directory, made now if it is not yet (synchronously: the TLS files are made at start). */
  path(): string;
  /** Removes it with everything in it, if it was made. */
  remove(): Promise<void>;
  /** The same, synchronously (when the provider fails to start). */
  removeSync(): void;
}

/**
 * A new temporary directory inside `parent` (default: the system's), made
 * on first use; `parent` too (mode 0700) when missing, and then removed
 * with it if nothing else was put there.
 *
 * @example
 * ```ts ignore
 * import { workdir } from "./workdir.ts";
 * const dir = workdir();
 * console.log(dir.path());
 * await dir.remove();
 * ```
 */
export function workdir(parent?: string): Workdir {
  let made: string | undefined;
  let madeParent = false;
  return {
    path(): string {
      if (made !== undefined) return made;
      if (parent !== undefined) {
        try {
          Deno.statSync(parent);
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
          Deno.mkdirSync(parent, { recursive: true, mode: 0o700 });
          madeParent = true;
        }
      }
      made = Deno.makeTempDirSync({ prefix: "loopauth-dev-", ...(parent ? { dir: parent } : {}) });
      return made;
    },
    async remove(): Promise<void> {
      if (made === undefined) return;
      const dir = made;
      made = undefined;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (madeParent) await Deno.remove(parent!).catch(() => {}); // only when empty
    },
    removeSync(): void {
      if (made === undefined) return;
      try {
        Deno.removeSync(made, { recursive: true });
        if (madeParent) Deno.removeSync(parent!);
      } catch { /* already gone, or the parent holds more */ }
      made = undefined;
    },
  };
}
