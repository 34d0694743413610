/**
 * Where loopauth keeps its files.
 * @module
 */
import { join } from "node:path";
import { LoopauthError } from "../errors.ts";

/**
 * The per-user config directory: `$XDG_CONFIG_HOME/loopauth` (default
 * `~/.config/loopauth`), or `%APPDATA%\loopauth` on Windows.
 *
 * @example
 * ```ts
 * import { configDir } from "./paths.ts";
 * console.log(configDir()); // e.g. /home/me/.config/loopauth
 * ```
 */
export function configDir(
  options: { env?: (name: string) => string | undefined; os?: string } = {},
): string {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const os = options.os ?? Deno.build.os;
  if (os === "windows") {
    const appData = env("APPDATA");
    if (appData) return join(appData, "loopauth");
  }
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg) return join(xdg, "loopauth");
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) {
    throw new LoopauthError(
      "storage",
      "Cannot find a config directory: set HOME or XDG_CONFIG_HOME",
    );
  }
  return join(home, ".config", "loopauth");
}
