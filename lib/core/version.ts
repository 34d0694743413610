/**
 * The version of loopauth, embedded so that `--version` works from a URL and
 * from a compiled binary without reading any file.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(`loopauth ${VERSION}`);
 * ```
 */
export const VERSION = "0.1.0";
