/**
 * One clear line for a permission Deno denied, naming the flag to add, or,
 * in a compiled binary (whose flags are fixed), what to do instead.
 * @module
 */

import { readEnvVar } from "./env_vars.ts";
import { terminalSafe } from "./text.ts";

/** Options of {@linkcode permissionMessage}. */
export interface PermissionMessageOptions {
  /** Running as a `deno compile` binary (default: `Deno.build.standalone`). */
  standalone?: boolean;
  /**
   * The command that installs this `loopauth` again (default: `$LOOPAUTH_REINSTALL`, which
   * the command install.sh writes sets): its flags are its own, so a host is added by
   * installing again with `--host`.
   */
  reinstall?: string;
}

/**
 * The message for a `Deno.errors.NotCapable` (or `PermissionDenied`) error,
 * without the `Error: ` prefix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionMessage } from "./permission_error.ts";
 * const error = new Deno.errors.NotCapable(
 *   'Requires net access to "ghe.example.com:443", run again with the --allow-net flag',
 * );
 * assert.equal(
 *   permissionMessage(error, { standalone: false, reinstall: "" }),
 *   'Deno denied net access to "ghe.example.com:443": run with --allow-net=ghe.example.com',
 * );
 * ```
 */
export function permissionMessage(error: Error, options: PermissionMessageOptions = {}): string {
  const standalone = options.standalone ?? Deno.build.standalone;
  const kind = /Requires (\w+) access/.exec(error.message)?.[1];
  const target = /Requires \w+ access to ("[^"]*"|[^,\s]+)/.exec(error.message)?.[1];
  const flag = /--allow-[a-z-]+/.exec(error.message)?.[0] ??
    (kind ? `--allow-${kind}` : undefined);
  const what = kind ? `${kind} access${target ? ` to ${target}` : ""}` : "an operation";
  if (standalone) {
    // A binary reaches every host but the wildcard addresses (scripts/permissions.ts compileFlags).
    return `This loopauth binary has no ${what}: ${
      kind === "net"
        ? "it never listens on or connects to 0.0.0.0 or [::], so name 127.0.0.1 or a host instead"
        : "use deno run with the flags in docs/permissions.md"
    }`;
  }
  const reinstall = terminalSafe(options.reinstall ?? readEnvVar("LOOPAUTH_REINSTALL") ?? "", {
    max: 4096, // a paste: cut at the usual 300 characters, the hint would not work
  });
  if (reinstall) {
    // The installed command (install.sh) takes no Deno flags: its hosts come from --host.
    if (kind !== "net" || !target) {
      return `This installed loopauth has no ${what}: run loopauth with deno run and the flags in docs/permissions.md`;
    }
    const host = hostOf(target);
    return `This installed loopauth may not reach ${host}: install it again with ${reinstall} --host ${host}`;
  }
  if (!flag) return `Deno denied ${what}: run with the permission flags in docs/permissions.md`;
  const value = scopedValue(kind, target);
  return `Deno denied ${what}: run with ${flag}${value ? `=${value}` : ""}`;
}

/** The narrowest value for the flag: a host for net, a name for env and run, a path otherwise. */
function scopedValue(kind: string | undefined, target: string | undefined): string | undefined {
  if (!kind || !target) return undefined;
  const bare = target.replace(/^"|"$/g, "");
  if (kind === "net") return hostOf(target);
  if (kind === "env" || kind === "run" || kind === "read" || kind === "write") return bare;
  return undefined;
}

function hostOf(target: string): string {
  const bare = target.replace(/^"|"$/g, "");
  // "host:port" or "[::1]:port": keep the host only (a flag without a port allows every port).
  return bare.replace(/:\d+$/, "");
}
