/**
 * Where loopauth keeps its files.
 * @module
 */
import { type AppRef, resolveApp } from "../core/app.ts";
import { LoopauthError } from "../core/errors.ts";

/** The names of the files loopauth keeps in its config directory. */
export const STORE_FILES = {
  /** Metadata: hosts, accounts, the active one (./config.ts). */
  config: "config.json",
  /** The plain-text secret store (./file.ts). */
  secrets: "tokens.json",
  /** The encrypted secret store (./encrypted.ts). */
  encrypted: "tokens.enc",
  /** The flow that worked last time (./flow_memory.ts). */
  flows: "flows.json",
  /** The cross-process lock (./lock.ts). */
  lock: "lock",
} as const;

/**
 * `dir` and `name` joined with the platform's separator. Not `node:path`:
 * importing it starts Deno's Node layer on every command (docs/performance.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { joinPath } from "./paths.ts";
 * const dir = joinPath("/home/me/.config/", "loopauth", { os: "linux" });
 * assert.equal(dir, "/home/me/.config/loopauth");
 * ```
 */
export function joinPath(dir: string, name: string, options: { os?: string } = {}): string {
  const windows = (options.os ?? Deno.build.os) === "windows";
  const trailing = windows ? /[\\/]+$/ : /\/+$/;
  return `${dir.replace(trailing, "")}${windows ? "\\" : "/"}${name}`;
}

/**
 * The directory a path is in (`/` or `C:\\` for a file at the root).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parentDir } from "./paths.ts";
 * const dir = parentDir("/home/me/.config/loopauth/config.json", { os: "linux" });
 * assert.equal(dir, "/home/me/.config/loopauth");
 * ```
 */
export function parentDir(path: string, options: { os?: string } = {}): string {
  const windows = (options.os ?? Deno.build.os) === "windows";
  const at = windows
    ? Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"))
    : path.lastIndexOf("/");
  if (at === -1) return ".";
  const root = at === 0 || (windows && at === 2 && path[1] === ":"); // "/" or "C:\\"
  return path.slice(0, root ? at + 1 : at);
}

/** Options of {@linkcode configDir}. */
export interface ConfigDirOptions {
  /** Reads an environment variable (default: the process's). */
  env?: (name: string) => string | undefined;
  /** The platform (default `Deno.build.os`). */
  os?: string;
  /** The app whose directory it is (default loopauth): its name is the directory's. */
  app?: AppRef;
}

/**
 * The per-user config directory of an app: `$XDG_CONFIG_HOME/APP` (default
 * `~/.config/APP`), or `%APPDATA%\APP` on Windows; APP is `loopauth` unless
 * `app` names another.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configDir } from "./paths.ts";
 * const env = (name: string) => name === "HOME" ? "/home/me" : undefined;
 * assert.equal(configDir({ env, os: "linux" }), "/home/me/.config/loopauth");
 * ```
 */
export function configDir(options: ConfigDirOptions = {}): string {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const os = options.os ?? Deno.build.os;
  const name = resolveApp(options.app).name;
  if (os === "windows") {
    const appData = env("APPDATA");
    if (appData) return joinPath(appData, name, { os });
  }
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg) return joinPath(xdg, name, { os });
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) {
    throw new LoopauthError(
      "storage",
      "Cannot find a config directory: set HOME or XDG_CONFIG_HOME",
    );
  }
  return joinPath(joinPath(home, ".config", { os }), name, { os });
}
